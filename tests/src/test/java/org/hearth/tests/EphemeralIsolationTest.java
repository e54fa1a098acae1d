package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Per-connection and per-message containers on the real engine: every claim is checked against
 * the engine (labels, container ids, host processes), never taken from the supervisor's word.
 * One Hearth instance runs a probe app whose per-connection container obeys its connection (an
 * attacker's stand-in) and the mail app with pools of 4 (ceiling 8) for smtp-in.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EphemeralIsolationTest {

    private static final String PROBE_APP = "ephemeral-test";
    private static final int DOOR_PORT = 17100;
    private static final int CELL_PORT = 17200;
    private static final String MAIL_APP = "mail-eph";
    private static final String HOST = "127.0.0.1";
    private static final int SMTP_PORT = 42525;
    private static final String IMAP = "127.0.0.2";
    private static final int IMAP_PORT = 41143;
    private static final String DOMAIN = "eph.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String PASSWORD = "alice-password-eph";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;
    private static HearthCli hearth;

    @BeforeAll
    static void installApps() throws IOException {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        EngineFixture.buildTestImages(engine, "probe", "sandbox-probe");
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("ephemeral");
        hearth = new HearthCli(state);
        // The flood below comes from one address and is about the pool, not the per-client ceiling.
        String manifest = EngineFixture.mailManifest(MAIL_APP, SMTP_PORT, IMAP_PORT, 41993)
                .replaceFirst("warm: 2\n      ceiling: 6", "warm: 4\n      ceiling: 8")
                .replace("per-client: 10", "per-client: 1000");
        assertThat(manifest).contains("warm: 4\n      ceiling: 8").contains("per-client: 1000");
        Path file = state.resolve("mail-eph.yaml");
        Files.writeString(file, manifest);
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", EngineFixture.home().root().resolve("tests/apps/ephemeral/app.yaml").toString());
        hearth.ok("app", "install", file.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, MAIL_APP, ALICE, PASSWORD);
        awaitWarm(PROBE_APP, "door", 2);
        awaitWarm(MAIL_APP, "smtp-in", 4);
        await(() -> sandboxes(PROBE_APP, "cell").isObject(), "the cell's sandbox host answering its counts");
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", PROBE_APP);
        hearth.run("app", "remove", MAIL_APP);
        hearth.run("down");
        engine.close();
    }

    @Test
    @Order(1)
    void eachConnectionGetsItsOwnContainerWhichIsDestroyedAfterwards() throws IOException {
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            String host;
            try (Door door = Door.open()) {
                host = door.ask("host");
                assertThat(containerWithIdPrefix(host)).as("the engine runs the container that answered").isTrue();
            }
            assertThat(served.add(host)).as("connection %d reused container %s", i, host).isTrue();
            await(() -> !containerWithIdPrefix(host), "container " + host + " destroyed after its connection");
        }
    }

    @Test
    @Order(2)
    void scratchFilesAndProcessesDoNotOutliveTheirConnection() throws IOException {
        String marker = "hearth-leftover-" + UUID.randomUUID();
        String first;
        try (Door door = Door.open()) {
            first = door.ask("host");
            assertThat(door.ask("write /tmp/secret " + marker)).isEqualTo("written");
            assertThat(door.ask("spawn " + marker)).startsWith("spawned ");
            await(() -> hostProcessesWith(marker) == 1, "the spawned process runs on the host");
        }
        await(() -> hostProcessesWith(marker) == 0, "the spawned process gone with its connection's container");
        try (Door door = Door.open()) {
            assertThat(door.ask("host")).isNotEqualTo(first);
            assertThat(door.ask("read /tmp/secret")).isEqualTo("absent");
        }
    }

    @Test
    @Order(3)
    void aConnectionBeyondTheCeilingWaitsThenIsTurnedAwayAndThePoolRefills() throws IOException {
        long turnedAwayBefore = pool(PROBE_APP, "door").path("turnedAway").asLong();
        List<Door> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(Door.open());
            }
            Instant start = Instant.now();
            try (Socket extra = new Socket(HOST, DOOR_PORT)) {
                extra.setSoTimeout(20_000);
                assertThat(extra.getInputStream().read()).as("closed without a container").isEqualTo(-1);
            }
            assertThat(Duration.between(start, Instant.now())).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(15));
        } finally {
            for (Door d : held) {
                d.close();
            }
        }
        // The count reaches status.json with the supervisor's next pass, not at the moment of the close.
        await(() -> pool(PROBE_APP, "door").path("turnedAway").asLong() == turnedAwayBefore + 1,
                "the turned-away connection counted once in the pool's status");
        awaitWarm(PROBE_APP, "door", 2);
        await(() -> ephemeralContainers(PROBE_APP, "door").size() == 2, "only the 2 warm containers left on the engine");
    }

    @Test
    @Order(4)
    void sequentialMailIsServedByDistinctSmtpContainersAndScannerSandboxes() {
        awaitWarm(MAIL_APP, "smtp-in", 4);
        Set<String> smtpBefore = ids(ephemeralContainers(MAIL_APP, "smtp-in"));
        List<ContainerRuntime.ContainerInfo> scannerHosts = ephemeralContainers(MAIL_APP, "spam");
        assertThat(scannerHosts).as("one long-lived sandbox host scans").hasSize(1);
        JsonNode scansBefore = sandboxes(MAIL_APP, "spam");
        long since = Instant.now().getEpochSecond() - 1;
        String marker = "sequential-" + UUID.randomUUID();
        int n = 5;
        for (int i = 0; i < n; i++) {
            JsonNode sent = MailClients.python("send", Map.of("host", HOST, "port", SMTP_PORT, "sender", "bob@example.org",
                    "rcpts", List.of(ALICE), "subject", marker + " " + i, "body", "one of " + n));
            assertThat(sent.path("ok").asBoolean()).as(sent.toString()).isTrue();
        }
        await(() -> engineEvents(since, "smtp-in", "destroy").size() >= n, n + " smtp-in containers destroyed");
        List<String> smtpDestroyed = engineEvents(since, "smtp-in", "destroy");
        assertThat(smtpDestroyed).as("one smtp-in container per connection").hasSize(n).doesNotHaveDuplicates();
        assertThat(smtpBefore).as("warm containers served and were destroyed").containsAnyElementsOf(smtpDestroyed);
        assertThat(ids(ephemeralContainers(MAIL_APP, "smtp-in"))).doesNotContainAnyElementsOf(smtpDestroyed);
        await(() -> sandboxes(MAIL_APP, "spam").path("destroyed").asLong() >= scansBefore.path("destroyed").asLong() + n,
                n + " scanner sandboxes ended");
        JsonNode scansAfter = sandboxes(MAIL_APP, "spam");
        assertThat(scansAfter.path("created").asLong() - scansBefore.path("created").asLong())
                .as("one fresh sandbox per message").isEqualTo(n);
        assertThat(scansAfter.path("failed").asLong()).isEqualTo(scansBefore.path("failed").asLong());
        assertThat(engineEvents(since, "spam", "destroy")).as("the scanner's host itself lives on").isEmpty();
        assertThat(MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker)).path("INBOX").asInt()).isEqualTo(n);
    }

    @Test
    @Order(5)
    void killingTheServingContainerMidDataStoresNothingAndThePoolRefills() throws IOException {
        awaitWarm(MAIL_APP, "smtp-in", 4);
        String marker = "killed-" + UUID.randomUUID();
        try (Socket s = new Socket(HOST, SMTP_PORT)) {
            s.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            assertThat(reply(in)).startsWith("220");
            assertThat(command(in, out, "EHLO killer.example.org")).startsWith("250");
            assertThat(command(in, out, "MAIL FROM:<bob@example.org>")).startsWith("250");
            assertThat(command(in, out, "RCPT TO:<" + ALICE + ">")).startsWith("250");
            assertThat(command(in, out, "DATA")).startsWith("354");
            out.write(("Subject: " + marker + "\r\n\r\nthe first half\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The container serving this connection is one of the role's running containers: kill them all.
            List<String> killed = ephemeralContainers(MAIL_APP, "smtp-in").stream()
                    .filter(ContainerRuntime.ContainerInfo::running).map(ContainerRuntime.ContainerInfo::id).toList();
            assertThat(killed).as("running smtp-in containers, one of them serving this connection").isNotEmpty();
            killed.forEach(id -> engine.client().killContainerCmd(id).exec());
            String after;
            try {
                out.write("the second half\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                after = in.readLine();
            } catch (IOException e) {
                after = null;
            }
            // The edge listener parses nothing and adds no reply: the connection just ends (EOF or reset).
            assertThat(after).as("the connection ends without any reply from a killed container").isNull();
        }
        awaitWarm(MAIL_APP, "smtp-in", 4);
        assertThat(MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker)).path("INBOX").asInt()).isZero();
    }

    @Test
    @Order(6)
    void aFloodEndsInDeliveredMailOrCleanRefusalsAndThePoolReturnsToFour() {
        awaitWarm(MAIL_APP, "smtp-in", 4);
        String marker = "flood-" + UUID.randomUUID();
        JsonNode flood = MailClients.python("flood", Map.of("host", HOST, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpt", ALICE, "count", 200, "marker", marker));
        JsonNode outcomes = flood.path("outcomes");
        int delivered = outcomes.path("250").asInt();
        int refused = outcomes.path("421").asInt();
        System.out.println("flood: " + flood);
        assertThat(delivered + refused).as("every connection ended in 250 or 421: " + outcomes).isEqualTo(200);
        assertThat(delivered).as("some mail got through").isPositive();
        assertThat(MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker)).path("INBOX").asInt()).as("each 250 stored, nothing more")
                .isEqualTo(delivered);
        awaitWarm(MAIL_APP, "smtp-in", 4);
        await(() -> ephemeralContainers(MAIL_APP, "smtp-in").size() == 4, "exactly the 4 warm smtp-in containers left");
        JsonNode pool = pool(MAIL_APP, "smtp-in");
        assertThat(pool.path("inUse").asInt()).isZero();
        assertThat(pool.path("turnedAway").asLong()).isGreaterThanOrEqualTo(refused);
    }

    @Test
    @Order(7)
    void eachConnectionToASandboxHostGetsAFreshSandboxThatSeesNothingElseAndLeavesNothing() throws IOException {
        JsonNode before = sandboxes(PROBE_APP, "cell");
        String marker = "cell-leftover-" + UUID.randomUUID();
        try (Door cell = Door.open(CELL_PORT)) {
            assertThat(cell.ask("pid")).as("first process of its own pid namespace").isEqualTo("pid 1");
            assertThat(cell.ask("ids")).as("the host's unprivileged user, nothing more").isEqualTo("ids uid=10001 euid=10001 gid=10001");
            assertThat(cell.ask("list /proc")).as("no other process is visible").isEqualTo("entries ");
            assertThat(cell.ask("list /tmp")).as("a /tmp no one used before").isEqualTo("entries ");
            assertThat(cell.ask("write /tmp/secret " + marker)).isEqualTo("written");
            assertThat(cell.ask("connect 127.0.0.1 7200")).as("no network: not even its own host's port")
                    .startsWith("refused");
            assertThat(cell.ask("connect edge-listener 17200")).startsWith("refused");
            assertThat(cell.ask("unshare")).as("no namespaces of its own").startsWith("refused");
            assertThat(cell.ask("spawn " + marker)).startsWith("spawned ");
            await(() -> hostProcessesWith(marker) == 1, "the spawned process runs on the host");
            try (Door second = Door.open(CELL_PORT)) {
                assertThat(second.ask("read /tmp/secret")).as("a sandbox alive at the same time sees none of it")
                        .isEqualTo("absent");
                assertThat(second.ask("list /proc")).isEqualTo("entries ");
            }
        }
        await(() -> hostProcessesWith(marker) == 0, "the spawned process gone with its connection's sandbox");
        try (Door cell = Door.open(CELL_PORT)) {
            assertThat(cell.ask("read /tmp/secret")).isEqualTo("absent");
        }
        await(() -> sandboxes(PROBE_APP, "cell").path("busy").asLong() == 0, "no sandbox left alive");
        JsonNode after = sandboxes(PROBE_APP, "cell");
        assertThat(after.path("created").asLong() - before.path("created").asLong()).isEqualTo(3);
        assertThat(after.path("destroyed").asLong() - before.path("destroyed").asLong()).isEqualTo(3);
        assertThat(after.path("failed").asLong()).isZero();
    }

    @Test
    @Order(8)
    void aConnectionBeyondTheSandboxesWaitsForOneToEndInsteadOfBeingRefused() throws IOException {
        try (Door first = Door.open(CELL_PORT); Door second = Door.open(CELL_PORT);
             Socket third = new Socket(HOST, CELL_PORT)) {
            third.setSoTimeout(1500);
            BufferedReader in = new BufferedReader(new InputStreamReader(third.getInputStream(), StandardCharsets.UTF_8));
            assertThatThrownBy(in::readLine).as("both sandboxes busy: the third waits")
                    .isInstanceOf(java.net.SocketTimeoutException.class);
            first.close();
            third.setSoTimeout(15_000);
            assertThat(in.readLine()).as("served once a sandbox ended").isEqualTo("ready");
            assertThat(second.ask("pid")).isEqualTo("pid 1");
        }
    }

    /** A connection to the probe app's door: it answers "ready", then one line per command. */
    private record Door(Socket socket, BufferedReader in, PrintWriter out) implements AutoCloseable {
        static Door open() throws IOException {
            return open(DOOR_PORT);
        }

        static Door open(int port) throws IOException {
            Socket s = new Socket(HOST, port);
            s.setSoTimeout(30_000);
            Door d = new Door(s, new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)),
                    new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8));
            assertThat(d.in.readLine()).isEqualTo("ready");
            return d;
        }

        String ask(String command) throws IOException {
            out.println(command);
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String reply(BufferedReader in) throws IOException {
        String line;
        do {
            line = in.readLine();
        } while (line != null && line.length() > 3 && line.charAt(3) == '-');
        return String.valueOf(line);
    }

    private static String command(BufferedReader in, OutputStream out, String command) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return reply(in);
    }

    private static List<ContainerRuntime.ContainerInfo> ephemeralContainers(String app, String role) {
        return runtime.containers(EngineFixture.roleLabels(state, app, role));
    }

    private static Set<String> ids(List<ContainerRuntime.ContainerInfo> containers) {
        Set<String> out = new HashSet<>();
        containers.forEach(c -> out.add(c.id()));
        return out;
    }

    private static boolean containerWithIdPrefix(String prefix) {
        return ephemeralContainers(PROBE_APP, "door").stream().anyMatch(c -> c.id().startsWith(prefix));
    }

    /** Host processes whose command line holds {@code marker}: the host sees every container's processes. */
    private static long hostProcessesWith(String marker) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).contains(marker);
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Container ids of the engine's {@code event}s for a mail role since an epoch second, from the docker CLI. */
    private static List<String> engineEvents(long since, String role, String event) {
        ClientProcess.Result r = ClientProcess.run(List.of("docker", "events", "--since", String.valueOf(since),
                "--until", String.valueOf(Instant.now().getEpochSecond()), "--filter", "type=container",
                "--filter", "event=" + event, "--filter", "label=" + HearthLabels.INSTANCE + "=" + EngineFixture.instanceOf(state),
                "--filter", "label=" + HearthLabels.APP + "=" + MAIL_APP,
                "--filter", "label=" + HearthLabels.ROLE + "=" + role, "--format", "{{.Actor.ID}}"), Duration.ofSeconds(60));
        if (r.exitCode() != 0) {
            throw new AssertionError("docker events exited " + r.exitCode() + ": " + r.stdout() + r.stderr());
        }
        return r.stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    private static JsonNode pool(String app, String container) {
        return containerStatus(app, container).path("pool");
    }

    /** A sandbox host's counts in the status; not an object while it has none. */
    private static JsonNode sandboxes(String app, String container) {
        return containerStatus(app, container).path("sandboxes");
    }

    private static JsonNode containerStatus(String app, String container) {
        JsonNode status = MailClients.json(hearth.ok("status", "--json").stdout());
        for (JsonNode a : status.path("apps")) {
            for (JsonNode c : a.path("containers")) {
                if (a.path("app").asText().equals(app) && c.path("name").asText().equals(container)) {
                    return c;
                }
            }
        }
        throw new AssertionError("no " + app + "/" + container + " in status");
    }

    private static void awaitWarm(String app, String container, int warm) {
        await(() -> pool(app, container).path("warm").asInt() == warm && pool(app, container).path("inUse").asInt() == 0,
                app + "/" + container + " back to " + warm + " warm");
    }

    private static void await(Supplier<Boolean> condition, String what) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
        while (!condition.get()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
