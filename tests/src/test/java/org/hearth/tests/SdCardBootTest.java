package org.hearth.tests;

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

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SD card image, built by {@code ./hearth image sd} as an owner would, booted on an emulated
 * arm64 board with 1 GiB by {@code image-build/sd/emulate} (qemu's {@code virt} with Cortex-A53
 * cores, the Pi 3's: it boots in a quarter of the time of the emulated Pi 3, which the benchmark
 * {@code image-build/benchmarks/sd-image} boots too), from the kernel, initrd and command line the
 * card names, on a card four times the image's size. The first boot
 * must make the box and say "ready to pair" on the serial console; the registry (here, on this
 * host's loopback, which the board reaches as 10.0.2.2) must then hold the box's hello on the
 * channel of the code the box put on the boot partition, and the box must answer SSH with the key
 * placed on the card, and with nothing else. Slow (tens of minutes the first time: the Debian layer
 * is built under qemu-user; then minutes, the boot under emulation): its own group.
 */
@Tag("slow")
@Tag("sd-image")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SdCardBootTest {

    @RegisterExtension
    static final TestRegistry registry = new TestRegistry();

    private static final Path HOME = EngineFixture.home().root();
    /** The emulated board: virt in the suite; image-build/benchmarks/sd-image also boots raspi3b. */
    private static final String BOARD = System.getProperty("hearth.sd.board", "virt");
    /** The whole line, so that a link half written to the console file does not count. */
    private static final Pattern READY = Pattern.compile("hearth: ready to pair: open (\\S+) \\(or scan hearth-pairing.png");
    private static Path work;
    private static Path image;
    private static Process board;
    private static Path console;
    private static int sshPort;
    private static Duration firstBoot;

    @BeforeAll
    static void buildTheCardAndBootIt() throws Exception {
        work = Files.createDirectories(HOME.resolve(".state/test-runs/sd-" + UUID.randomUUID().toString().substring(0, 8)));
        ClientProcess.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "owner@laptop", "-f",
                work.resolve("owner").toString()), Duration.ofSeconds(30));
        // As Windows' Notepad may save it: a byte-order mark, CRLF, the owner's own capitals.
        Files.writeString(work.resolve("wifi.txt"), "\uFEFFSSID: Home Network\r\npassword: correct horse battery\r\nCountry: GB\r\n");
        image = work.resolve("hearth-pi3.img");
        // The launcher's own state folder: its Debian layer cache is the one ./hearth image sd keeps.
        ClientProcess.Result built = ClientProcess.run(List.of(HOME.resolve("hearth").toString(), "image", "sd",
                "--out", image.toString(), "--registry", "http://10.0.2.2:" + registry.port(),
                "--ssh-key", work.resolve("owner.pub").toString(), "--wifi", work.resolve("wifi.txt").toString()),
                Duration.ofMinutes(75));
        System.out.println("hearth image sd:\n" + built.stdout() + built.stderr());
        assertThat(built.exitCode()).as("hearth image sd; output:\n" + built.stdout() + built.stderr()).isZero();
        assertThat(built.stdout()).contains("sha256", "Flash it: xzcat hearth-pi3.img.xz", "hold your Wi-Fi password");
        assertThat(Files.getPosixFilePermissions(image)).containsExactlyInAnyOrder(
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        // What the card's firmware would load must boot the card's root by its label.
        assertThat(bootFile("cmdline.txt")).contains("root=LABEL=hearth-root");
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            sshPort = free.getLocalPort();
        }
        console = work.resolve("board/console.log");
        Instant powerOn = Instant.now();
        // A card four times the image: the first boot grows the root and makes the data partition.
        board = new ProcessBuilder(List.of("bash", HOME.resolve("image-build/sd/emulate").toString(), BOARD, image.toString(),
                work.resolve("board").toString(), String.valueOf(sshPort))).redirectErrorStream(true)
                .redirectOutput(work.resolve("qemu.log").toFile()).start();
        awaitConsole(READY, Duration.ofMinutes(40));
        firstBoot = Duration.between(powerOn, Instant.now());
        System.out.printf("sd card: power-on to \"ready to pair\" on the %s board: %.1f s%n", BOARD, firstBoot.toMillis() / 1e3);
    }

    @AfterAll
    static void powerOff() throws Exception {
        if (board != null) {
            board.destroy();
            if (!board.waitFor(30, TimeUnit.SECONDS)) {
                board.destroyForcibly();
            }
        }
        if (work != null) {
            ClientProcess.run(List.of("rm", "-rf", work.toString()), Duration.ofMinutes(1));
        }
    }

    @Test
    @Order(1)
    void theFirstBootSaysReadyToPairAndTheBoxWaitsAtTheRegistry() throws Exception {
        Matcher ready = READY.matcher(consoleText());
        assertThat(ready.find()).isTrue();
        String link = ready.group(1);
        assertThat(link).startsWith("http://10.0.2.2:" + registry.port() + "/pair#code=");
        PairingCode code = PairingCode.parse(link.substring(link.indexOf("#code=") + 6));
        // The box's code on the boot partition is the one it waits with: the link, and its QR code.
        assertThat(ssh("cat /boot/firmware/hearth-pairing.txt").stdout()).contains("On your phone, open: " + link);
        Path qr = work.resolve("qr.png");
        Files.write(qr, sshBytes("cat /boot/firmware/hearth-pairing.png"));
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
        String status = ssh("hearth status").stdout();
        assertThat(status).contains("supervisor  running (pid", "overlay wireguard", "storage     luks2 (encrypted)")
                .doesNotContain("DOWN", "NONE", "PLAIN");
        String doctor = ssh("hearth doctor").stdout();
        System.out.println("hearth doctor on the board:\n" + doctor);
        assertThat(doctor).contains("backend luks2", "Hearth can run here.")
                .containsPattern("board +(linux,dummy-virt|Raspberry Pi 3 Model B[^(]*) \\(aarch64, \\d cores\\)");
        String memory = ssh("grep -E 'MemTotal|MemAvailable' /proc/meminfo; ps -eo rss=,comm= --sort=-rss | head -8").stdout();
        System.out.println("sd card: memory once ready to pair (" + BOARD + " board, 1 GiB):\n" + memory);
    }

    @Test
    @Order(3)
    void theFirstBootMadeTheBoxFromTheCard() {
        // The root grew to 4 GiB, the data partition took the rest and holds the engine and Hearth's state.
        String partitions = ssh("lsblk -b -n -o NAME,SIZE,LABEL,MOUNTPOINT").stdout();
        System.out.println("partitions:\n" + partitions);
        assertThat(partitions).containsPattern("(vda|mmcblk0p)2\\s+4294967296\\s+hearth-root\\s+/\\n");
        assertThat(partitions).containsPattern("(vda|mmcblk0p)3\\s+\\d+\\s+hearth-data\\s+/var/lib/hearth");
        assertThat(ssh("df --output=target /var/lib/hearth/engine /var/lib/hearth/state | tail -2").stdout())
                .containsPattern("/var/lib/hearth\\n/var/lib/hearth");
        // Wi-Fi from the card, its file (and password) gone from the FAT partition.
        assertThat(ssh("cat /etc/wpa_supplicant/wpa_supplicant-wlan0.conf").stdout())
                .contains("ssid=\"Home Network\"", "country=GB").doesNotContain("correct horse");
        assertThat(ssh("ls /boot/firmware").stdout()).doesNotContain("hearth-wifi.txt", "hearth-ssh.pub");
        // No password anywhere: root's is locked, SSH takes keys only.
        assertThat(ssh("passwd -S root").stdout()).containsPattern("^root L");
        assertThat(ssh("sshd -T | grep -E '^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin) '").stdout())
                .contains("passwordauthentication no", "kbdinteractiveauthentication no", "permitrootlogin without-password");
        ClientProcess.Result password = ClientProcess.run(List.of("ssh", "-p", String.valueOf(sshPort), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive", "root@127.0.0.1", "true"), Duration.ofMinutes(1));
        assertThat(password.exitCode()).isNotZero();
        assertThat(password.stderr()).contains("Permission denied (publickey)");
        // Root's own files, whoever owns the checkout; Debian's security fixes installed daily by the box.
        assertThat(ssh("stat -c '%U:%G %a' /usr/local/sbin/hearth-first-boot /etc/fstab /opt/hearth/appliance-core.jar").stdout())
                .isEqualTo("root:root 755\nroot:root 644\nroot:root 644\n");
        assertThat(ssh("apt-config dump APT::Periodic::Unattended-Upgrade").stdout()).contains("\"1\"");
        assertThat(ssh("systemctl is-enabled apt-daily-upgrade.timer").stdout()).contains("enabled");
        // hearth.local on the LAN (mDNS cannot leave qemu's user network: the daemon's own word for it).
        assertThat(ssh("systemctl is-active avahi-daemon; journalctl -q -u avahi-daemon -o cat | grep 'Host name is'").stdout())
                .contains("active", "Host name is hearth.local");
    }

    @Test
    @Order(4)
    void aSecondBootKeepsTheBoxAndItsCode() throws Exception {
        String link = READY.matcher(consoleText()).results().findFirst().orElseThrow().group(1);
        long readyLines = READY.matcher(consoleText()).results().count();
        // The connection ends with the board's shutdown: its exit code says nothing, nor a hang as it goes.
        try {
            ClientProcess.run(sshCommand("systemctl reboot"), Duration.ofMinutes(1));
        } catch (AssertionError hungAsTheBoardWentDown) {
            System.out.println("sd card: ssh systemctl reboot: " + hungAsTheBoardWentDown.getMessage());
        }
        Instant since = Instant.now();
        Await.until(Duration.ofMinutes(20), () -> tail(console), () -> {
            return READY.matcher(consoleText()).results().count() > readyLines ? Optional.of(true) : Optional.empty();
        });
        System.out.printf("sd card: reboot to \"ready to pair\": %.1f s%n", Duration.between(since, Instant.now()).toMillis() / 1e3);
        List<String> links = READY.matcher(consoleText()).results().map(m -> m.group(1)).toList();
        assertThat(links.get(links.size() - 1)).as("the same code after a reboot").isEqualTo(link);
        assertThat(consoleText()).containsOnlyOnce("hearth-first-boot: done");
        assertThat(ssh("findmnt -n -o SOURCE /var/lib/hearth").stdout()).containsPattern("/dev/(vda|mmcblk0p)3");
    }

    private static String bootFile(String name) throws IOException {
        Path out = work.resolve("boot-" + name);
        copyOut(name, out);
        return Files.readString(out);
    }

    /** A file of the image's FAT partition, read with mtools at the partition's offset (no mount needed). */
    private static void copyOut(String name, Path to) {
        ClientProcess.Result r = ClientProcess.run(List.of("env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-n", "-i",
                image + "@@1M", "::/" + name, to.toString()), Duration.ofMinutes(1));
        assertThat(r.exitCode()).as("mcopy ::/" + name + ": " + r.stderr()).isZero();
    }

    private static void awaitConsole(Pattern line, Duration limit) throws Exception {
        Await.until(limit, () -> tail(console), () -> {
            if (!board.isAlive()) {
                throw new AssertionError("the board stopped: " + Files.readString(work.resolve("qemu.log")) + tail(console));
            }
            return line.matcher(consoleText()).find()
                    ? Optional.of(true) : Optional.empty();
        });
    }

    /** What the board printed on its serial console so far (Latin-1: a kernel's bytes are not all UTF-8). */
    private static String consoleText() throws IOException {
        return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return "\n...\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no console output: " + e.getMessage() + ")";
        }
    }

    private static List<String> sshCommand(String command) {
        return List.of("ssh", "-p", String.valueOf(sshPort), "-i", work.resolve("owner").toString(), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "root@127.0.0.1", command);
    }

    private static ClientProcess.Result ssh(String command) {
        ClientProcess.Result r = ClientProcess.run(sshCommand(command), Duration.ofMinutes(3));
        assertThat(r.exitCode()).as("on the board: " + command + "\n" + r.stdout() + r.stderr()).isZero();
        return r;
    }

    private static byte[] sshBytes(String command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(work, "ssh", ".out");
        Process p = new ProcessBuilder(sshCommand(command)).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("on the board: " + command + " did not finish in 3 minutes");
        }
        assertThat(p.exitValue()).as("on the board: " + command).isZero();
        return Files.readAllBytes(out);
    }
}
