package org.hearth.tests;

import com.sun.net.httpserver.HttpServer;
import org.hearth.registry.TestRegistry;
import org.hearth.registry.protocol.PairingCode;
import org.hearth.registry.protocol.PairingKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SD card image, built by {@code ./hearth image sd} as an owner would, booted on an emulated
 * arm64 board with 1 GiB ({@link EmulatedBoard}: qemu's {@code virt} with Cortex-A53 cores, the Pi
 * 3's: it boots in a quarter of the time of the emulated Pi 3, which the benchmark
 * {@code image-build/benchmarks/sd-image} boots too), from the kernel, initrd and command line the
 * card names, on a card four times the image's size. The first boot must make the box and say
 * "ready to pair" on the serial console; the registry (here, on this host's loopback, which the board
 * reaches as {@link EmulatedBoard#HOST}) must then hold the box's hello on the channel of the code
 * the box put on the boot partition, and the box must answer SSH with the key placed on the card,
 * and with nothing else. A second boot, and the mail app installed on the board, are
 * {@link SdCardMailTest}'s. Slow (tens of minutes the first time: the Debian layer is built under
 * qemu-user; then minutes, the boot under emulation): its own group.
 */
@Tag("slow")
@Tag("sd-image")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SdCardBootTest {

    @RegisterExtension
    static final TestRegistry registry = new TestRegistry();

    private static EmulatedBoard board;
    /** A web server on this host's loopback whose port the board is not given: it must not reach it. */
    private static HttpServer notForwarded;

    @BeforeAll
    static void buildTheCardAndBootIt() throws Exception {
        Path wifi = Files.createTempFile("wifi", ".txt");
        // As Windows' Notepad may save it: a byte-order mark, CRLF, the owner's own capitals.
        Files.writeString(wifi, "\uFEFFSSID: Home Network\r\npassword: correct horse battery\r\nCountry: GB\r\n");
        try {
            board = EmulatedBoard.card(List.of("--registry", "http://" + EmulatedBoard.HOST + ":" + registry.port(),
                    "--wifi", wifi.toString()));
        } finally {
            Files.delete(wifi);
        }
        assertThat(board.built).contains("sha256", "Flash it: xzcat hearth-pi3.img.xz", "hold your Wi-Fi password");
        assertThat(Files.getPosixFilePermissions(board.image)).containsExactlyInAnyOrder(
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        // What the card's firmware would load must boot the card's root by its label.
        assertThat(board.bootFile("cmdline.txt")).contains("root=LABEL=hearth-root");
        notForwarded = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        notForwarded.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        notForwarded.start();
        Instant powerOn = Instant.now();
        board.powerOn(List.of(registry.port()), Map.of());
        board.awaitReady(0, Duration.ofMinutes(40));
        System.out.printf("sd card: power-on to \"ready to pair\" on the %s board: %.1f s%n", board.machine,
                Duration.between(powerOn, Instant.now()).toMillis() / 1e3);
    }

    @AfterAll
    static void powerOff() throws Exception {
        if (board != null) {
            board.close();
        }
        if (notForwarded != null) {
            notForwarded.stop(0);
        }
    }

    @Test
    @Order(1)
    void theFirstBootSaysReadyToPairAndTheBoxWaitsAtTheRegistry() throws Exception {
        Matcher ready = EmulatedBoard.READY.matcher(board.consoleText());
        assertThat(ready.find()).isTrue();
        String link = ready.group(1);
        assertThat(link).startsWith("http://" + EmulatedBoard.HOST + ":" + registry.port() + "/pair#code=");
        PairingCode code = PairingCode.parse(link.substring(link.indexOf("#code=") + 6));
        // The box's code on the boot partition is the one it waits with: the link, and its QR code.
        assertThat(board.ssh("cat /boot/firmware/hearth-pairing.txt").stdout()).contains("On your phone, open: " + link);
        Path qr = board.work.resolve("qr.png");
        Files.write(qr, board.sshBytes("cat /boot/firmware/hearth-pairing.png"));
        assertThat(ClientProcess.run(List.of("zbarimg", "-q", "--raw", qr.toString()), Duration.ofSeconds(30)).stdout().strip())
                .isEqualTo(link);

        // The pairing page answers, and the box has opened the code's channel and waits on it for the phone.
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + registry.port();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/pair")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        HttpResponse<String> channel = toPhone(http, base, code);
        assertThat(channel.statusCode()).as(channel.body()).isEqualTo(200);
        assertThat(channel.body()).contains("\"closed\":false");
        // A code no box holds has no channel there.
        assertThat(toPhone(http, base, PairingCode.random()).statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> toPhone(HttpClient http, String base, PairingCode code) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/pairing/" + PairingKeys.of(code).channel()
                + "/to-phone?after=0&wait=0")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(2)
    void hearthStatusIsHealthyOnTheBoard() {
        String status = board.ssh("hearth status").stdout();
        assertThat(status).contains("supervisor  running (pid", "overlay wireguard", "storage     luks2 (encrypted)")
                .doesNotContain("DOWN", "NONE", "PLAIN");
        // The overlay in the kernel's WireGuard (Debian's arm64 kernel has it): no wireguard-go daemon.
        assertThat(status).contains("implementation kernel");
        assertThat(board.ssh("ip -d link show type wireguard").stdout()).contains("wireguard");
        assertThat(board.ssh("pgrep -c wireguard-go || true").stdout().strip()).isEqualTo("0");
        // The command line's class-data archive, made at image time, is one this board's JVM can map
        // (-Xshare:on fails otherwise): the card's JDK and jars are the ones it was made from.
        board.ssh("java -XX:TieredStopAtLevel=1 -Xshare:on -XX:SharedArchiveFile=/opt/hearth/cli.jsa "
                + "-Dhearth.home=/opt/hearth -jar /opt/hearth/appliance-core.jar --version");
        String doctor = board.ssh("hearth doctor").stdout();
        System.out.println("hearth doctor on the board:\n" + doctor);
        assertThat(doctor).contains("backend luks2", "Hearth can run here.")
                .containsPattern("board +(linux,dummy-virt|Raspberry Pi 3 Model B[^(]*) \\(aarch64, \\d cores\\)");
        // The engine is Podman's API service: its Go heap collected early (GOGC=25), its networks' resolver
        // passing no name on (AARDVARK_NO_PROXY), and no Docker daemon on the card.
        assertThat(doctor).contains("engine").contains("Podman");
        assertThat(board.ssh("systemctl show -p Environment podman").stdout()).contains("GOGC=25", "AARDVARK_NO_PROXY=1");
        assertThat(board.ssh("systemctl is-active podman").stdout().strip()).isEqualTo("active");
        assertThat(board.ssh("command -v dockerd containerd || true").stdout().strip()).isEmpty();
        // Its networks' range goes nowhere while no bridge carries it, not out through the LAN's router.
        assertThat(board.ssh("ip route show type blackhole").stdout()).contains("blackhole 10.88.0.0/15");
        String memory = board.ssh("grep -E 'MemTotal|MemAvailable|Shmem:' /proc/meminfo; ps -eo rss=,comm= --sort=-rss | head -12").stdout();
        System.out.println("sd card: memory once ready to pair (" + board.machine + " board, 1 GiB):\n" + memory);
    }

    @Test
    @Order(3)
    void theFirstBootMadeTheBoxFromTheCard() {
        // The root grew to 4 GiB, the data partition took the rest and holds the engine and Hearth's state.
        String partitions = board.ssh("lsblk -b -n -o NAME,SIZE,LABEL,MOUNTPOINT").stdout();
        System.out.println("partitions:\n" + partitions);
        assertThat(partitions).containsPattern("(vda|mmcblk0p)2\\s+4294967296\\s+hearth-root\\s+/\\n");
        assertThat(partitions).containsPattern("(vda|mmcblk0p)3\\s+\\d+\\s+hearth-data\\s+/var/lib/hearth");
        assertThat(board.ssh("df --output=target /var/lib/hearth/engine /var/lib/hearth/state | tail -2").stdout())
                .containsPattern("/var/lib/hearth\\n/var/lib/hearth");
        // Wi-Fi from the card, its file (and password) gone from the FAT partition.
        assertThat(board.ssh("cat /etc/wpa_supplicant/wpa_supplicant-wlan0.conf").stdout())
                .contains("ssid=\"Home Network\"", "country=GB").doesNotContain("correct horse");
        assertThat(board.ssh("ls /boot/firmware").stdout()).doesNotContain("hearth-wifi.txt", "hearth-ssh.pub");
        // No password anywhere: root's is locked, SSH takes keys only.
        assertThat(board.ssh("passwd -S root").stdout()).containsPattern("^root L");
        assertThat(board.ssh("sshd -T | grep -E '^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin) '").stdout())
                .contains("passwordauthentication no", "kbdinteractiveauthentication no", "permitrootlogin without-password");
        ClientProcess.Result password = board.sshWithPassword();
        assertThat(password.exitCode()).isNotZero();
        assertThat(password.stderr()).contains("Permission denied (publickey)");
        // Root's own files, whoever owns the checkout; Debian's security fixes installed daily by the box.
        assertThat(board.ssh("stat -c '%U:%G %a' /usr/local/sbin/hearth-first-boot /etc/fstab /opt/hearth/appliance-core.jar").stdout())
                .isEqualTo("root:root 755\nroot:root 644\nroot:root 644\n");
        assertThat(board.ssh("apt-config dump APT::Periodic::Unattended-Upgrade").stdout()).contains("\"1\"");
        assertThat(board.ssh("systemctl is-enabled apt-daily-upgrade.timer").stdout()).contains("enabled");
        // hearth.local on the LAN (mDNS cannot leave qemu's user network: the daemon's own word for it).
        assertThat(board.ssh("systemctl is-active avahi-daemon; journalctl -q -u avahi-daemon -o cat | grep 'Host name is'").stdout())
                .contains("active", "Host name is hearth.local");
    }

    @Test
    @Order(4)
    void theBoardReachesOnlyWhatItIsGiven() {
        // qemu's network is restricted: this host's loopback only through the forwarded registry
        // port, and nothing beyond this machine (the board's DNS, NTP and apt go nowhere).
        assertThat(board.ssh("curl -sS -o /dev/null -w '%{http_code}' http://" + EmulatedBoard.HOST + ":" + registry.port() + "/pair")
                .stdout()).isEqualTo("200");
        // A server this host's loopback answers on, which qemu's unrestricted network would let the
        // board reach as 10.0.2.2 (its alias for this host's loopback), and the forward address too.
        int port = notForwarded.getAddress().getPort();
        assertThat(ClientProcess.run(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:" + port + "/"),
                Duration.ofSeconds(30)).stdout()).isEqualTo("200");
        for (String address : List.of("10.0.2.2", EmulatedBoard.HOST)) {
            ClientProcess.Result refused = ClientProcess.run(board.sshCommand("curl -sS -m 20 -o /dev/null -w '%{http_code}' http://"
                    + address + ":" + port + "/"), Duration.ofMinutes(1));
            assertThat(refused.exitCode()).as(address + ": " + refused.stdout() + refused.stderr()).isNotZero();
            assertThat(refused.stdout()).as(address).doesNotContain("200");
        }
        assertThat(board.ssh("getent hosts deb.debian.org || echo unresolved").stdout()).contains("unresolved");
    }
}
