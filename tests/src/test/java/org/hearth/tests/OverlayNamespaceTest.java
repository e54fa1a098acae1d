package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The WireGuard overlay with real packets: {@code tests/overlay/world} builds an internet of
 * network namespaces around this host (the appliance): an "internet" router that also plays the
 * attacker, a "phone", and the namespace holding the appliance's WireGuard socket. The phone
 * imports the configuration {@code hearth overlay device add} printed, into wireguard-go, as the
 * WireGuard app would. Every verdict comes from a client's connection or from {@code ss}.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OverlayNamespaceTest {

    private static final String WORLD_TAG = "t";
    private static final String INTERNET = "hw-t-inet";
    private static final String PHONE = "hw-t-phone";
    private static final String SOCKET_NAMESPACE = "hw-t-wgs";
    private static final String PUBLIC_ADDRESS = "198.18.10.1";
    private static final String DEVICE = "hwt-wg";
    private static final String OVERLAY_ADDRESS = "10.87.0.1";
    private static final String APP = "mail-ovl";
    private static final int SMTP_PORT = 43525;
    private static final int IMAP_PORT = 43143;
    private static final int IMAPS_PORT = 43993;
    private static final int WEBMAIL_PORT = EngineFixture.webmailPort(IMAP_PORT);
    private static final String DOMAIN = "ovl.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String PASSWORD = "alice-password-ovl";
    private static HearthCli hearth;
    private static Path state;

    @BeforeAll
    static void buildTheWorldAndInstallMail() throws IOException {
        EngineFixture.buildPlatformImages(EngineFixture.engine());
        world("up", WORLD_TAG, "10");
        state = EngineFixture.newStateDir("overlay");
        hearth = new HearthCli(state);
        Files.writeString(state.resolve("appliance.yaml"), """
                overlay:
                  provider: wireguard
                  wireguard:
                    device: %s
                    network: 10.87.0.0/24
                    listen-port: 51820
                    socket-namespace: %s
                    endpoint: 198.18.12.2:51820
                """.formatted(DEVICE, SOCKET_NAMESPACE));
        String manifest = EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAPS_PORT);
        Path file = state.resolve(APP + ".yaml");
        Files.writeString(file, manifest);
        hearth.ok("up", "--public-address", PUBLIC_ADDRESS);
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", file.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
        String added = hearth.ok("overlay", "device", "add", "phone", "--no-qr").stdout();
        String config = added.substring(added.indexOf("[Interface]"));
        Path phoneConfig = state.resolve("phone.conf");
        Files.writeString(phoneConfig, config);
        world("phone-wg", WORLD_TAG, phoneConfig.toString());
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        world("down", WORLD_TAG);
    }

    @Test
    @Order(1)
    void statusShowsTheProviderAndPrivatePortsListenOnlyOnTheOverlayAddress() {
        JsonNode status = MailClients.json(hearth.ok("status", "--json").stdout());
        JsonNode overlay = status.path("overlay");
        assertThat(overlay.path("provider").asText()).isEqualTo("wireguard");
        assertThat(overlay.path("address").asText()).isEqualTo(OVERLAY_ADDRESS);
        assertThat(overlay.path("device").asText()).isEqualTo(DEVICE);
        assertThat(overlay.path("network").asText()).isEqualTo("10.87.0.0/24");
        assertThat(overlay.path("details").path("endpoint").asText()).isEqualTo("198.18.12.2:51820");
        assertThat(status.path("publicAddress").asText()).isEqualTo(PUBLIC_ADDRESS);

        assertThat(listening(IMAP_PORT)).containsExactly(OVERLAY_ADDRESS + ":" + IMAP_PORT);
        assertThat(listening(IMAPS_PORT)).containsExactly(OVERLAY_ADDRESS + ":" + IMAPS_PORT);
        assertThat(listening(WEBMAIL_PORT)).containsExactly(OVERLAY_ADDRESS + ":" + WEBMAIL_PORT);
        assertThat(listening(SMTP_PORT)).containsExactly(PUBLIC_ADDRESS + ":" + SMTP_PORT);
    }

    @Test
    @Order(2)
    void mailFromTheInternetIsReadOnThePhoneOverWireGuard() {
        String marker = "overlay-" + UUID.randomUUID();
        JsonNode sent = MailClients.pythonIn(INTERNET, "send", Map.of("host", PUBLIC_ADDRESS, "port", SMTP_PORT,
                "sender", "bob@example.org", "rcpts", List.of(ALICE), "subject", marker, "body", "over the overlay"));
        assertThat(sent.path("ok").asBoolean()).as("SMTP from the internet: %s", sent).isTrue();

        JsonNode found = MailClients.pythonIn(PHONE, "search", Map.of("host", OVERLAY_ADDRESS, "port", IMAP_PORT,
                "user", ALICE, "password", PASSWORD, "marker", marker));
        assertThat(found.path("INBOX").asInt()).as("IMAP login and search from the phone: %s", found).isEqualTo(1);
        assertThat(probe(PHONE, OVERLAY_ADDRESS, IMAPS_PORT, true).path("greeting").asText())
                .as("IMAPS over the overlay").startsWith("* OK");
        assertThat(webmailProbe(PHONE, OVERLAY_ADDRESS, WEBMAIL_PORT).path("greeting").asText())
                .as("webmail over the overlay").startsWith("HTTP/1.1 303");
    }

    @Test
    @Order(3)
    void theInternetReachesNoPrivatePortOnAnyAddressItCanRouteTo() {
        // The appliance's own addresses with the host ports, then the store's container addresses with its own ports.
        Map<String, List<Integer>> targets = new java.util.LinkedHashMap<>();
        targets.put(PUBLIC_ADDRESS, List.of(IMAP_PORT, IMAPS_PORT, WEBMAIL_PORT));
        targets.put(OVERLAY_ADDRESS, List.of(IMAP_PORT, IMAPS_PORT, WEBMAIL_PORT, SMTP_PORT));
        containerAddresses("imap").forEach(a -> targets.put(a, List.of(1143, 1993, 2424, 2425, 2465)));
        containerAddresses("webmail").forEach(a -> targets.put(a, List.of(8443)));
        assertThat(targets).hasSizeGreaterThan(2);
        // All at once: most wait out their 3 s timeout (the packets are dropped), one after another over two minutes.
        Map<String, Future<String>> results = new java.util.LinkedHashMap<>();
        ExecutorService probes = Executors.newFixedThreadPool(16);
        try {
            targets.forEach((address, ports) -> ports.forEach(port -> results.put(address + ":" + port, probes.submit(() ->
                    // HTTPS speaks only when spoken to: asked as a browser would, so that a silent open port cannot pass for closed.
                    (port == WEBMAIL_PORT || port == 8443 ? webmailProbe(INTERNET, address, port) : probe(INTERNET, address, port, false))
                            .path("result").asText()))));
            results.forEach((target, result) -> assertThat(result).as("internet -> %s", target)
                    .succeedsWithin(Duration.ofMinutes(2)).isIn("refused", "timeout"));
        } finally {
            probes.shutdownNow();
        }
        assertThat(probe(INTERNET, PUBLIC_ADDRESS, SMTP_PORT, false).path("greeting").asText()).startsWith("220");
    }

    @Test
    @Order(4)
    void privateListenersMoveWhenTheOverlayAddressChanges() {
        String moved = "10.87.0.9";
        // Deleting a primary address takes its secondaries along, so the old one goes first.
        run("ip", "addr", "del", OVERLAY_ADDRESS + "/24", "dev", DEVICE);
        run("ip", "addr", "add", moved + "/24", "dev", DEVICE);
        try {
            await(() -> listening(IMAP_PORT).equals(List.of(moved + ":" + IMAP_PORT)), "IMAP moved to " + moved);
            assertThat(probe(PHONE, moved, IMAP_PORT, false).path("greeting").asText()).startsWith("* OK");
            assertThat(probe(INTERNET, moved, IMAP_PORT, false).path("result").asText())
                    .as("the guard moved with the address").isEqualTo("timeout");
        } finally {
            run("ip", "-4", "addr", "flush", "dev", DEVICE);
            run("ip", "addr", "add", OVERLAY_ADDRESS + "/24", "dev", DEVICE);
        }
        await(() -> listening(IMAP_PORT).equals(List.of(OVERLAY_ADDRESS + ":" + IMAP_PORT)), "IMAP back on " + OVERLAY_ADDRESS);
    }

    @Test
    @Order(5)
    void privateListenersCloseWhileTheOverlayIsDownAndReturnWithIt() throws Exception {
        run("ip", "link", "set", DEVICE, "down");
        try {
            await(() -> listening(IMAP_PORT).isEmpty() && listening(IMAPS_PORT).isEmpty(), "private listeners gone");
            assertThat(MailClients.json(hearth.ok("status", "--json").stdout()).path("overlay").path("problem").asText())
                    .contains("is down");
            assertThat(listening(SMTP_PORT)).as("the public port stays").containsExactly(PUBLIC_ADDRESS + ":" + SMTP_PORT);
        } finally {
            run("ip", "link", "set", DEVICE, "up");
        }
        await(() -> listening(IMAP_PORT).equals(List.of(OVERLAY_ADDRESS + ":" + IMAP_PORT)), "private listeners back");
        assertThat(probe(PHONE, OVERLAY_ADDRESS, IMAP_PORT, false).path("greeting").asText()).startsWith("* OK");

        // wireguard-go dying takes the interface with it; the supervisor starts it again with the same key and peers.
        run("kill", Long.toString(wireGuardGoPid()));
        await(() -> listening(IMAP_PORT).equals(List.of(OVERLAY_ADDRESS + ":" + IMAP_PORT))
                && probe(PHONE, OVERLAY_ADDRESS, IMAP_PORT, false).path("greeting").asText().startsWith("* OK"),
                "the phone reaches IMAP again after WireGuard restarted");
    }

    @Test
    @Order(6)
    void aRemovedDeviceCanNoLongerReachAnything() throws InterruptedException {
        assertThat(probe(PHONE, OVERLAY_ADDRESS, IMAP_PORT, false).path("result").asText()).isEqualTo("open");

        hearth.ok("overlay", "device", "remove", "phone");

        for (int port : List.of(IMAP_PORT, IMAPS_PORT)) {
            assertThat(probe(PHONE, OVERLAY_ADDRESS, port, false).path("result").asText())
                    .as("revoked phone -> %s:%d", OVERLAY_ADDRESS, port).isEqualTo("timeout");
        }
        Thread.sleep(2000);
        assertThat(probe(PHONE, OVERLAY_ADDRESS, IMAP_PORT, false).path("result").asText())
                .as("still revoked after the supervisor's next passes").isEqualTo("timeout");
        assertThat(hearth.ok("overlay", "device", "list").stdout()).contains("no devices");
    }

    private static JsonNode probe(String netns, String host, int port, boolean implicitTls) {
        return MailClients.pythonIn(netns, "probe", Map.of("host", host, "port", port, "implicit_tls", implicitTls, "timeout", 3));
    }

    /** The local addresses with a TCP listener on {@code port}, as {@code ss} reports them. */
    private static List<String> listening(int port) {
        return run("ss", "-Hltn", "sport = :" + port).lines()
                .map(l -> l.trim().split("\\s+")).filter(f -> f.length >= 4)
                // Java's dual-stack sockets show an IPv4 bind as its IPv4-mapped form; it accepts that address only.
                .map(f -> f[3].replaceFirst("^\\[::ffff:([0-9.]+)]", "$1")).sorted().toList();
    }

    /** The wireguard-go serving the appliance's interface: the owner of its control socket. */
    private static long wireGuardGoPid() {
        String socket = "/var/run/wireguard/" + DEVICE + ".sock";
        // wireguard-go runs in the socket namespace, where the kernel lists its sockets.
        String out = run("ip", "netns", "exec", SOCKET_NAMESPACE, "ss", "-Hxlp").lines()
                .filter(l -> l.contains(socket + " ")).findFirst().orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("pid=(\\d+)").matcher(out);
        assertThat(m.find()).as("wireguard-go owns %s's socket: %s", DEVICE, out).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** A browser's first request to the webmail over TLS: its status line, or refused / timeout. */
    private static JsonNode webmailProbe(String netns, String host, int port) {
        return MailClients.pythonIn(netns, "probe", Map.of("host", host, "port", port, "implicit_tls", true, "timeout", 3,
                "say", "GET / HTTP/1.1\r\nHost: webmail\r\nConnection: close\r\n\r\n"));
    }

    private static List<String> containerAddresses(String role) {
        String ids = run("docker", "ps", "-q", "--filter", "label=org.hearth.app=" + APP, "--filter",
                "label=org.hearth.role=" + role).strip();
        assertThat(ids).as("a running %s container", role).isNotEmpty();
        String out = run("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                ids.lines().findFirst().orElseThrow());
        return List.of(out.strip().split("\\s+"));
    }

    private static void await(Supplier<Boolean> condition, String what) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (!condition.get()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("not within 60 s: " + what);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static void world(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", EngineFixture.home().root().resolve("tests/overlay/world").toString()));
        cmd.addAll(List.of(args));
        String out = runCommand(cmd);
        if (!out.isEmpty()) {
            System.out.println("world " + args[0] + ": " + out);
        }
    }

    private static String run(String... cmd) {
        return runCommand(List.of(cmd));
    }

    private static String runCommand(List<String> cmd) {
        try {
            // A file, not a pipe: a daemon started by the command may hold its output open for good.
            Path file = Files.createTempFile("overlay-test", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(file.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in 60 s; killed; output so far: "
                        + new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
            }
            String out = Files.readString(file, StandardCharsets.UTF_8);
            Files.delete(file);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
