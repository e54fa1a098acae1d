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
import org.junit.jupiter.api.extension.RegisterExtension;
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
 * One Hearth instance runs a probe app whose per-connection containers and sandboxes obey their
 * connection (an attacker's stand-in) and the mail app as shipped, whose smtp-in and scanner are
 * sandbox hosts.
 */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
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

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> state, () -> engine);

    @BeforeAll
    static void installApps() throws IOException {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        EngineFixture.buildTestImages(engine, "probe", "sandbox-probe");
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("ephemeral");
        hearth = new HearthCli(state);
        String manifest = EngineFixture.mailManifest(MAIL_APP, SMTP_PORT, IMAP_PORT, 41993);
        Path file = state.resolve("mail-eph.yaml");
        Files.writeString(file, manifest);
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", EngineFixture.home().root().resolve("tests/apps/ephemeral/app.yaml").toString());
        hearth.ok("app", "install", file.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, MAIL_APP, ALICE, PASSWORD);
        awaitWarm(PROBE_APP, "door", 2);
        await(() -> sandboxes(PROBE_APP, "cell").isObject(), "the cell's sandbox host answering its counts");
        await(() -> sandboxes(MAIL_APP, "smtp-in").isObject(), "smtp-in's sandbox host answering its counts");
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
    void sequentialMailIsServedByFreshSmtpAndScannerSandboxesOfLongLivedHosts() {
        assertThat(ephemeralContainers(MAIL_APP, "smtp-in")).as("one long-lived sandbox host serves SMTP").hasSize(1);
        assertThat(ephemeralContainers(MAIL_APP, "spam")).as("one long-lived sandbox host scans").hasSize(1);
        JsonNode sessionsBefore = countsOf(MAIL_APP, "smtp-in");
        JsonNode scansBefore = countsOf(MAIL_APP, "spam");
        long since = Instant.now().getEpochSecond() - 1;
        String marker = "sequential-" + UUID.randomUUID();
        int n = 5;
        for (int i = 0; i < n; i++) {
            JsonNode sent = MailClients.python("send", Map.of("host", HOST, "port", SMTP_PORT, "sender", "bob@example.org",
                    "rcpts", List.of(ALICE), "subject", marker + " " + i, "body", "one of " + n));
            assertThat(sent.path("ok").asBoolean()).as(sent.toString()).isTrue();
        }
        for (String role : List.of("smtp-in", "spam")) {
            JsonNode before = role.equals("spam") ? scansBefore : sessionsBefore;
            await(() -> sandboxes(MAIL_APP, role).path("destroyed").asLong() >= before.path("destroyed").asLong() + n,
                    n + " " + role + " sandboxes ended");
            JsonNode after = countsOf(MAIL_APP, role);
            assertThat(after.path("created").asLong() - before.path("created").asLong())
                    .as("one fresh %s sandbox per %s", role, role.equals("spam") ? "message" : "connection").isEqualTo(n);
            assertThat(after.path("failed").asLong()).isEqualTo(before.path("failed").asLong());
            assertThat(engineEvents(since, role, "destroy")).as("the %s host itself lives on", role).isEmpty();
        }
        assertThat(MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker)).path("INBOX").asInt()).isEqualTo(n);
    }

    @Test
    @Order(5)
    void killingTheServingSandboxMidDataStoresNothingAndItsHostServesOn() throws IOException {
        String marker = "killed-" + UUID.randomUUID();
        String smtpHost = ephemeralContainers(MAIL_APP, "smtp-in").get(0).id();
        long since = Instant.now().getEpochSecond() - 1;
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
            // This connection's sandbox is the only one alive in that container: the first process of a pid namespace
            // two levels below the host's.
            List<Long> serving = sandboxProcesses(smtpHost);
            assertThat(serving).as("the one sandbox serving this connection").hasSize(1);
            ProcessHandle.of(serving.get(0)).ifPresent(ProcessHandle::destroyForcibly);
            String after;
            try {
                out.write("the second half\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                after = in.readLine();
            } catch (IOException e) {
                after = null;
            }
            // The edge listener parses nothing and adds no reply: the connection just ends (EOF or reset).
            assertThat(after).as("the connection ends without any reply from a killed sandbox").isNull();
        }
        JsonNode sent = MailClients.python("send", Map.of("host", HOST, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", marker + " next", "body", "after the kill"));
        assertThat(sent.path("ok").asBoolean()).as(sent.toString()).isTrue();
        assertThat(engineEvents(since, "smtp-in", "destroy")).as("the host was not touched").isEmpty();
        JsonNode found = MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker));
        assertThat(found.path("INBOX").asInt()).as("only the message sent after the kill: " + found).isEqualTo(1);
    }

    @Test
    @Order(6)
    void fiftyClientsAtOnceFromFiveAddressesAreAllServedWithoutARefusal() {
        String marker = "burst-" + UUID.randomUUID();
        // Ten per address: the listener's per-client ceiling, which stays as shipped.
        JsonNode burst = MailClients.python("flood", Map.of("host", HOST, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpt", ALICE, "count", 50, "marker", marker, "seconds", 60,
                "sources", List.of("127.0.0.1", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6")));
        System.out.println("burst of 50: " + burst);
        assertThat(burst.path("outcomes").toString()).as("every client stored its message").isEqualTo("{\"250\":50}");
        assertThat(MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker)).path("INBOX").asInt()).as("each 250 stored once").isEqualTo(50);
        await(() -> sandboxes(MAIL_APP, "smtp-in").path("busy").asLong() == 0, "every smtp-in sandbox ended");
    }

    @Test
    @Order(7)
    void eachConnectionToASandboxHostGetsAFreshSandboxThatSeesNothingElseAndLeavesNothing() throws IOException {
        JsonNode before = countsOf(PROBE_APP, "cell");
        String marker = "cell-leftover-" + UUID.randomUUID();
        try (Door cell = Door.open(CELL_PORT)) {
            assertThat(cell.ask("pid")).as("first process of its own pid namespace").isEqualTo("pid 1");
            assertThat(cell.ask("ids")).as("the host's unprivileged user, nothing more").isEqualTo("ids uid=10001 euid=10001 gid=10001");
            assertThat(cell.ask("list /proc")).as("no other process is visible").isEqualTo("entries ");
            assertThat(cell.ask("list /tmp")).as("a /tmp no one used before").isEqualTo("entries ");
            assertThat(cell.ask("write /tmp/secret " + marker)).isEqualTo("written");
            assertThat(cell.ask("write /data/secret " + marker)).as("the host's volume is covered, read-only")
                    .startsWith("refused");
            assertThat(cell.ask("list /data")).as("and shows nothing of the host's").isEqualTo("entries ");
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
        await(() -> {
            JsonNode now = sandboxes(PROBE_APP, "cell");
            return now.has("created") && now.path("busy").asLong() == 0
                    && now.path("destroyed").asLong() - before.path("destroyed").asLong() >= 3;
        }, "no sandbox left alive, the three ended counted");
        JsonNode after = countsOf(PROBE_APP, "cell");
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
            try {
                s.setSoTimeout(30_000);
                Door d = new Door(s, new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)),
                        new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8));
                assertThat(d.in.readLine()).isEqualTo("ready");
                return d;
            } catch (IOException | RuntimeException | AssertionError e) {
                // A door that never opened must not hold its container: the next tests would find the pool full.
                s.close();
                throw e;
            }
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
    /**
     * Host pids of the sandboxes alive in a container: processes in its cgroup that are the first process
     * (pid 1) of a pid namespace nested in the container's own (NSpid lists host, container, sandbox).
     */
    private static List<Long> sandboxProcesses(String containerId) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    if (!Files.readString(p.resolve("cgroup")).contains(containerId)) {
                        return false;
                    }
                    return Files.readAllLines(p.resolve("status")).stream().filter(l -> l.startsWith("NSpid:"))
                            .map(l -> l.substring(6).trim().split("\\s+"))
                            .anyMatch(ids -> ids.length == 3 && ids[2].equals("1"));
                } catch (IOException e) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

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

    /**
     * A reading of the host's counts. hearth status has them from the supervisor's last pass, which
     * asks the host with a 1 s deadline: under load a pass may have none (the CI run on Podman
     * compared two missing readings).
     */
    private static JsonNode countsOf(String app, String container) {
        JsonNode[] seen = new JsonNode[1];
        await(() -> (seen[0] = sandboxes(app, container)).has("created"), app + "/" + container + "'s sandbox counts");
        return seen[0];
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
