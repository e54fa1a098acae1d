package org.hearth.tests;

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
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code hearth app upgrade} on the real engine, from a signed catalog holding five releases of a small
 * app with an encrypted volume and a stateless front: upgrades broken on purpose (a new version whose
 * container exits at once after writing to the volume; one whose health check is never green; one
 * under way when the supervisor is killed; one whose migration writes and exits non-zero) each end
 * with the old version serving and its data exactly as before, and a good upgrade migrates and keeps
 * the data while its new front starts beside the old one, which answers until then: no connection
 * fails. Tests run in order on one installed app.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpgradeTest {

    private static final String APP = "upgrade-echo";
    private static final int PORT = 17310;
    private static final int FRONT_PORT = 17311;
    /** The probe as a program: a migration runs its command itself, not as arguments to the image's entrypoint. */
    private static final String PROBE = "java, -cp, /app, org.hearth.tests.probe.Probe";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;
    private static HearthCli hearth;

    /**
     * A release: its version, what its {@code echo} container runs (its health check is always on port
     * 7000) and, if any, its migration; beside it a stateless {@code front} whose command changes only in 2.0.0.
     */
    private static String manifest(String version, String command, String migrate) {
        return String.join("\n", "schema: 1", "app: " + APP, "version: " + version, "description: An echo server that keeps a file.",
                migrate.isEmpty() ? "" : "migrate:\n  container: echo\n  command: " + migrate + "\n  timeout: 60s",
                "containers:", "  echo:", "    image: hearth-test/probe", "    lifecycle: service", "    command: " + command,
                "    ports:", "      - name: echo", "        port: 7000", "        exposure: private", "        listen: " + PORT,
                "    volumes:", "      - name: data", "        path: /data", "        size: 64MiB",
                "    health:", "      tcp: echo", "      interval: 500ms", "      start-period: 10s",
                "  front:", "    image: hearth-test/probe", "    lifecycle: service",
                "    command: " + (version.equals("2.0.0") ? "[echo-server, \"7100\", \"7101\"]" : "[echo-server, \"7100\"]"),
                "    ports:", "      - name: front", "        port: 7100", "        exposure: private", "        listen: " + FRONT_PORT,
                "    health:", "      tcp: front", "      interval: 500ms", "      start-period: 10s", "");
    }

    @BeforeAll
    static void publishFourReleasesAndInstallTheFirst() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe");
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("upgrade");
        hearth = new HearthCli(state);
        String key = hearth.ok("catalog", "key", "new", "--out", state.resolve("catalog.key").toString()).stdout().split("\\s+")[0];
        Path folder = Files.createDirectories(state.resolve("manifests").resolve(APP));
        for (String[] release : List.of(new String[] {"1.0.0", "[echo-server, \"7000\"]", ""},
                // Writes to the volume, then exits: it never serves.
                new String[] {"1.1.0", "[write, /data/written-by-1.1.0]", ""},
                // Serves, but not where its health check looks.
                new String[] {"1.2.0", "[echo-server, \"7001\"]", ""},
                // Would serve, but its migration writes half its change and fails.
                new String[] {"1.3.0", "[echo-server, \"7000\"]", "[" + PROBE + ", write-and-fail, \"3\", /data/half-migrated]"},
                new String[] {"2.0.0", "[echo-server, \"7000\", \"7002\"]", "[" + PROBE + ", write, /data/migrated-to-2.0.0]"})) {
            Files.writeString(folder.resolve("app.yaml"), manifest(release[0], release[1], release[2]));
            hearth.ok("catalog", "build", "--key", state.resolve("catalog.key").toString(), "--out", state.resolve("published").toString(),
                    "--name", "test", "--manifests", state.resolve("manifests").toString());
        }
        Files.writeString(state.resolve("appliance.yaml"), String.join("\n", "owner-app:", "  port: 0", "catalog:", "  sources:",
                "    - name: test", "      path: " + state.resolve("published"), "      keys: [\"" + key + "\"]", ""));
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        assertThat(hearth.ok("app", "install", APP + "@1.0.0", "--timeout", "120").stdout()).contains("installed " + APP + " 1.0.0: healthy");
        String id = running().id();
        assertThat(runtime.exec(id, List.of("java", "-cp", "/app", "org.hearth.tests.probe.Probe", "write", "/data/written-by-1.0.0"),
                Duration.ofSeconds(30)).exitCode()).isZero();
        assertThat(data("written-by-1.0.0")).isTrue();
    }

    @AfterAll
    static void tearDown() {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        engine.close();
    }

    @Test
    @Order(1)
    void aNewVersionThatExitsAtOnceIsRolledBackAndWhatItWroteIsGone() throws Exception {
        HearthCli.Result r = hearth.run("app", "upgrade", APP, "1.1.0", "--timeout", "25");
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(1);
        assertThat(r.stderr()).contains("the upgrade of " + APP + " to 1.1.0 failed: ").contains(APP + " 1.0.0 is back, with its data");
        assertOldVersionServingWithItsData();
        assertThat(data("written-by-1.1.0")).as("a file the failed version wrote").isFalse();
    }

    @Test
    @Order(2)
    void aNewVersionWhoseHealthIsNeverGreenIsRolledBack() throws Exception {
        HearthCli.Result r = hearth.run("app", "upgrade", APP, "1.2.0", "--timeout", "20");
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(1);
        assertThat(r.stderr()).contains("to 1.2.0 failed: not healthy within 20 s");
        assertOldVersionServingWithItsData();
    }

    @Test
    @Order(3)
    void anUpgradeCutShortByAKilledSupervisorIsUndoneAtItsNextStart() throws Exception {
        ClientProcess upgrade = ClientProcess.start(List.of(EngineFixture.home().root().resolve("hearth").toString(),
                "--state-dir", state.toString(), "app", "upgrade", APP, "1.2.0", "--timeout", "300"));
        Path record = state.resolve("upgrades/" + APP + ".json");
        Await.until(Duration.ofSeconds(60), () -> "the upgrade never reached its new version", () -> {
            try {
                return Files.exists(record) && Files.readString(record).contains("\"STARTED\"")
                        && runningVersion().filter("1.2.0"::equals).isPresent() ? Optional.of(true) : Optional.empty();
            } catch (java.io.IOException e) {
                return Optional.empty();
            }
        });
        long pid = Long.parseLong(Files.readString(state.resolve("supervisor.pid")).strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        Await.until(Duration.ofSeconds(30), () -> "the supervisor did not die", () ->
                ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? Optional.empty() : Optional.of(true));
        upgrade.finish(Duration.ofSeconds(30));

        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        assertThat(record).doesNotExist();
        assertOldVersionServingWithItsData();
    }

    @Test
    @Order(4)
    void aMigrationThatFailsIsRolledBackWithWhatItWrote() throws Exception {
        HearthCli.Result r = hearth.run("app", "upgrade", APP, "1.3.0", "--timeout", "60");
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(1);
        assertThat(r.stderr()).contains("to 1.3.0 failed: its migration (java -cp /app org.hearth.tests.probe.Probe write-and-fail 3 /data/half-migrated) exited 3"
                + " (probe: wrote and failed on purpose)");
        assertOldVersionServingWithItsData();
        assertThat(data("half-migrated")).as("what the failed migration wrote").isFalse();
        assertThat(runtime.containers(Map.of(HearthLabels.MIGRATION, APP))).as("the migration's container").isEmpty();
    }

    @Test
    @Order(5)
    void anOlderOrTheSameVersionIsNotAnUpgrade() {
        HearthCli.Result r = hearth.run("app", "upgrade", APP, "1.0.0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains(APP + " 1.0.0 is installed; catalog test offers 1.0.0, not a newer one");
    }

    @Test
    @Order(6)
    void aGoodUpgradeMigratesAndKeepsTheDataWhileTheStatelessFrontNeverStopsAnswering() throws Exception {
        String frontBefore = frontContainers().get(0);
        FrontProber prober = new FrontProber(frontAddress());
        prober.start();
        HearthCli.Result r;
        try {
            r = hearth.ok("app", "upgrade", APP, "--timeout", "120");
            Await.until(Duration.ofSeconds(30), () -> "the old front was not removed: " + frontContainers(), () ->
                    frontContainers().contains(frontBefore) ? Optional.empty() : Optional.of(true));
            Thread.sleep(1000);
        } finally {
            prober.stop();
        }
        assertThat(r.stdout()).contains("upgraded " + APP + " from 1.0.0 to 2.0.0");
        assertThat(runningVersion()).contains("2.0.0");
        assertThat(data("written-by-1.0.0")).isTrue();
        assertThat(data("migrated-to-2.0.0")).as("the migration's work").isTrue();
        assertThat(prober.answered).as("echoes from the front during the upgrade").isGreaterThan(20);
        assertThat(prober.failures).as("connections to the front that failed during the upgrade").isEmpty();
        assertThat(prober.sawTwoFronts).as("the new front started beside the old one").isTrue();
        try (var left = Files.list(state.resolve("volumes"))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".snapshot"));
        }
        assertThat(state.resolve("upgrades/" + APP + ".json")).doesNotExist();
    }

    /** The front's containers (running or not), by id. */
    private static List<String> frontContainers() {
        Map<String, String> labels = new HashMap<>(EngineFixture.roleLabels(state, APP, "front"));
        labels.put(HearthLabels.MANAGED, "true");
        return runtime.containers(labels).stream().map(ContainerRuntime.ContainerInfo::id).toList();
    }

    /** Where the front's listener listens, as hearth status says (the overlay's address). */
    private static InetSocketAddress frontAddress() {
        Matcher m = Pattern.compile("([0-9.]+):" + FRONT_PORT).matcher(hearth.ok("status").stdout());
        assertThat(m.find()).as("the front's listener in hearth status").isTrue();
        return new InetSocketAddress(m.group(1), FRONT_PORT);
    }

    /** A client that asks the front for an echo every 50 ms, a new connection each time, and counts what failed. */
    private static final class FrontProber {
        private final InetSocketAddress address;
        private final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile int answered;
        private volatile boolean sawTwoFronts;
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::probe, "front-prober");

        FrontProber(InetSocketAddress address) {
            this.address = address;
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }

        private void probe() {
            for (int i = 0; running; i++) {
                try (Socket s = new Socket()) {
                    s.connect(address, 2000);
                    s.setSoTimeout(2000);
                    s.getOutputStream().write(("ping " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                    String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                    if (("ping " + i).equals(line)) {
                        answered++;
                    } else {
                        failures.add(i + ": answered " + line);
                    }
                } catch (IOException e) {
                    failures.add(i + ": " + e);
                }
                if (frontContainers().size() > 1) {
                    sawTwoFronts = true;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static void assertOldVersionServingWithItsData() throws Exception {
        Await.until(Duration.ofSeconds(60), () -> "1.0.0 is not healthy again: " + hearth.run("status").stdout(), () ->
                hearth.ok("app", "list").stdout().matches("(?s).*" + APP + " +1\\.0\\.0 +healthy.*") ? Optional.of(true) : Optional.empty());
        assertThat(runningVersion()).contains("1.0.0");
        assertThat(data("written-by-1.0.0")).as("the file 1.0.0 wrote before the upgrade").isTrue();
    }

    private static ContainerRuntime.ContainerInfo running() {
        return runningInfo().orElseThrow(() -> new AssertionError("no running " + APP + "/echo"));
    }

    private static Optional<ContainerRuntime.ContainerInfo> runningInfo() {
        Map<String, String> labels = new HashMap<>(EngineFixture.roleLabels(state, APP, "echo"));
        labels.put(HearthLabels.MANAGED, "true");
        return runtime.containers(labels).stream().filter(ContainerRuntime.ContainerInfo::running).findFirst();
    }

    /** The version whose container runs now, as its command tells (each release runs its own). */
    private static Optional<String> runningVersion() {
        return runningInfo().map(c -> engine.client().inspectContainerCmd(c.id()).exec().getConfig().getCmd())
                .map(cmd -> String.join(" ", cmd)).map(cmd -> cmd.contains("7002") ? "2.0.0" : cmd.contains("7001") ? "1.2.0"
                        : cmd.contains("write") ? "1.1.0" : "1.0.0");
    }

    /** Whether the volume holds this file now (read on the host, where the open volume is mounted). */
    private static boolean data(String file) {
        return Files.exists(state.resolve("volumes").resolve(APP + "-data").resolve("data").resolve(file));
    }
}
