package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.core.SystemTool;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The supervisor on the real engine, driven through the real CLI: a three-container test app
 * (an echo server, a client with a declared edge to it, a loner with none) proves isolation,
 * listeners, restarts, adoption and clean removal. Tests run in order: later ones build on the
 * installed app.
 */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SupervisorTest {

    private static final String APP = "isolation-test";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> state, () -> engine);
    private static String instance;
    private static HearthCli hearth;

    @BeforeAll
    static void installTestApp() throws IOException {
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe");
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("supervisor");
        instance = EngineFixture.instanceOf(state);
        hearth = new HearthCli(state);
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        HearthCli.Result install = hearth.ok("app", "install", EngineFixture.home().root()
                .resolve("tests/apps/isolation/app.yaml").toString());
        assertThat(install.stdout()).contains("installed isolation-test 1.0.0: healthy in");
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", APP);
        hearth.run("down");
        engine.close();
    }

    @Test
    @Order(1)
    void declaredEdgeConnects() {
        assertThat(probe("client", "connect echo 7000")).isEqualTo("connect echo:7000=ok ping");
    }

    @Test
    @Order(2)
    void undeclaredPortOfADeclaredPeerIsBlocked() {
        assertThat(probe("client", "connect echo 7001")).startsWith("connect echo:7001=failed");
    }

    @Test
    @Order(3)
    void undeclaredPeerIsUnreachableByNameAndByAddress() {
        assertThat(probe("loner", "connect echo 7000")).startsWith("connect echo:7000=failed UnknownHostException");
        java.util.Collection<String> addresses = container("echo").addresses().values();
        assertThat(addresses).as("echo's addresses on its networks").isNotEmpty();
        for (String address : addresses) {
            assertThat(probe("loner", "connect " + address + " 7000")).contains("=failed");
        }
        assertThat(probe("echo", "connect " + container("client").addresses().values().iterator().next() + " 7000"))
                .contains("=failed");
    }

    @Test
    @Order(4)
    void noContainerHasEgressOrReachesTheHost() throws IOException {
        // 198.18.0.0/15 is the benchmark range: routed nowhere here, so only a leak could answer.
        assertThat(probe("client", "connect 198.18.0.1 80")).contains("=failed");
        assertThat(probe("echo", "connect 198.18.0.1 80")).contains("=failed");
        // A host service on the echo container's own gateway address: the engine would let the container in.
        String echoIngress = container("echo").addresses().get(new EngineNames(instance).ingressNetwork(APP, "echo"));
        String gateway = echoIngress.substring(0, echoIngress.lastIndexOf('.')) + ".1";
        try (ServerSocket hostService = new ServerSocket()) {
            hostService.bind(new InetSocketAddress(gateway, 0));
            assertThat(probe("echo", "connect " + gateway + " " + hostService.getLocalPort())).contains("=failed");
        }
    }

    @Test
    @Order(5)
    void rootFilesystemIsReadOnlyAndOnlyTheVolumeAndTmpAreWritable() {
        assertThat(probe("echo", "write /probe /app/probe /data/probe /tmp/probe")).isEqualTo(String.join("\n",
                "write /probe=denied FileSystemException: /probe: Read-only file system",
                "write /app/probe=denied FileSystemException: /app/probe: Read-only file system",
                "write /data/probe=ok",
                "write /tmp/probe=ok"));
    }

    @Test
    @Order(6)
    void privatePortAnswersOnTheOverlayAddressAndIsRefusedOnThePublicOne() throws IOException {
        assertThat(echo("127.0.0.2", 17000)).isEqualTo("hello");
        assertThatThrownBy(() -> echo("127.0.0.1", 17000)).isInstanceOf(ConnectException.class);
        assertThat(echo("127.0.0.1", 17001)).isEqualTo("hello");
        assertThatThrownBy(() -> echo("127.0.0.2", 17001)).isInstanceOf(ConnectException.class);
        // Only a public port whose manifest says overlay: true is on the overlay too.
        assertThat(echo("127.0.0.1", 17002)).isEqualTo("hello");
        assertThat(echo("127.0.0.2", 17002)).isEqualTo("hello");
    }

    @Test
    @Order(7)
    void killedContainerIsRestartedAndCounted() {
        String id = container("echo").id();
        engine.client().killContainerCmd(id).exec();

        await(Duration.ofSeconds(30), () -> runtime.container(id).map(ContainerRuntime.ContainerInfo::running).orElse(false)
                && "healthy".equals(appStatus().path("state").asText()));
        JsonNode echo = containerStatus("echo");
        assertThat(echo.path("restarts").asInt()).isEqualTo(1);
        assertThat(echo.path("id").asText()).isEqualTo(id);
    }

    @Test
    @Order(8)
    void restartedSupervisorAdoptsRunningContainersWithoutRecreatingThem() throws IOException {
        Map<String, String> before = ids();
        long pid = Long.parseLong(Files.readString(state.resolve("supervisor.pid")).strip());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await(Duration.ofSeconds(10), () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));

        hearth.ok("up");
        await(Duration.ofSeconds(30), () -> "healthy".equals(appStatus().path("state").asText()));

        assertThat(ids()).isEqualTo(before);
        assertThat(echo("127.0.0.2", 17000)).isEqualTo("hello");
    }

    @Test
    @Order(9)
    void downStopsContainersAndUpBringsTheSameOnesBack() {
        Map<String, String> before = ids();
        hearth.ok("down");
        assertThat(runtime.containers(appLabels())).isNotEmpty().noneMatch(ContainerRuntime.ContainerInfo::running);
        assertThatThrownBy(() -> echo("127.0.0.2", 17000)).isInstanceOf(ConnectException.class);
        assertThat(iptablesRules()).as("down leaves no firewall chain of this instance")
                .doesNotContain("HEARTH-F-" + instance).doesNotContain("HEARTH-I-" + instance);

        hearth.ok("up");
        await(Duration.ofSeconds(30), () -> "healthy".equals(appStatus().path("state").asText()));

        assertThat(ids()).isEqualTo(before);
        assertThat(probe("echo", "write /data/again")).isEqualTo("write /data/again=ok");
        assertThat(iptablesRules()).contains("-j HEARTH-F-" + instance).contains("-j HEARTH-I-" + instance);
        assertThat(probe("client", "connect echo 7001")).as("isolation is back with the chains")
                .startsWith("connect echo:7001=failed");
    }

    @Test
    @Order(10)
    void statusJsonListsContainersAndEveryEndpoint() {
        JsonNode status = json(hearth.ok("status", "--json").stdout());
        assertThat(status.path("running").asBoolean()).isTrue();
        assertThat(status.path("overlay").path("provider").asText()).isEqualTo("loopback");
        assertThat(status.path("overlay").path("developmentOnly").asBoolean()).isTrue();
        JsonNode app = appStatus();
        assertThat(app.path("containers")).hasSize(3);
        assertThat(app.path("endpoints").toString())
                .contains("\"address\":\"127.0.0.2\",\"listen\":17000")
                .contains("\"address\":\"127.0.0.1\",\"listen\":17001")
                .contains("\"address\":\"127.0.0.1\",\"listen\":17002").contains("\"address\":\"127.0.0.2\",\"listen\":17002");
    }

    /**
     * A reinstall that changes a container with a volume (replaced, never started beside the old
     * one): it is answered only once the new container serves, and connections made meanwhile wait
     * for it instead of being turned away or sent to the removed one. The new echo server takes 3 s
     * before it listens, as a JVM mail server takes its time.
     */
    @Test
    @Order(11)
    void aReinstallWithChangedSettingsIsAnsweredOnceTheNewContainerServesAndNoConnectionIsLost() throws Exception {
        Path shipped = EngineFixture.home().root().resolve("tests/apps/isolation/app.yaml");
        String text = Files.readString(shipped);
        String anchor = "    command: [echo-server, \"7000\", \"7001\", \"7002\"]\n";
        assertThat(text).contains(anchor);
        Path slow = state.resolve("slow-echo.yaml");
        Files.writeString(slow, text.replace(anchor, anchor + "    environment:\n      ECHO_DELAY_MS: \"3000\"\n"));
        String old = container("echo").id();
        AtomicBoolean done = new AtomicBoolean();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger served = new AtomicInteger();
        Thread client = new Thread(() -> {
            while (!done.get()) {
                try {
                    String heard = echo("127.0.0.2", 17000, 30_000);
                    if (heard.equals("hello")) {
                        served.incrementAndGet();
                    } else {
                        failures.add(Instant.now() + " heard \"" + heard + "\"");
                    }
                    Thread.sleep(50);
                } catch (IOException e) {
                    failures.add(Instant.now() + " " + e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        client.start();
        try {
            Thread.sleep(500);
            hearth.ok("app", "install", slow.toString(), "--timeout", "120");

            List<String> now = runtime.containers(EngineFixture.roleLabels(state, APP, "echo")).stream()
                    .map(ContainerRuntime.ContainerInfo::id).toList();
            assertThat(now).as("answered after the old echo was replaced").hasSize(1).doesNotContain(old);
            assertThat(containerStatus("echo").path("id").asText()).isEqualTo(now.get(0));
            assertThat(appStatus().path("state").asText()).isEqualTo("healthy");
            int before = served.get();
            Thread.sleep(1000);
            assertThat(served.get()).as("the new echo serves").isGreaterThan(before);
        } finally {
            done.set(true);
            client.join(60_000);
            hearth.ok("app", "install", shipped.toString(), "--timeout", "120");
        }
        assertThat(failures).as("connections during the replacement").isEmpty();
        assertThat(echo("127.0.0.2", 17000)).isEqualTo("hello");
    }

    @Test
    @Order(12)
    void aServiceThatStopsWhenIdleSleepsUntilAConnectionWakesItAndServesThatConnection() throws Exception {
        String app = "idle-test";
        Path manifest = state.resolve("idle.yaml");
        // Its echo server listens only after 2 s, as a JVM server takes a while to start.
        Files.writeString(manifest, """
                schema: 1
                app: idle-test
                version: 1.0.0
                containers:
                  web:
                    image: hearth-test/probe
                    lifecycle: service
                    command: [echo-server, "7000"]
                    environment:
                      ECHO_DELAY_MS: "2000"
                    stop-when-idle: 4s
                    ports:
                      - name: echo
                        port: 7000
                        exposure: private
                        listen: 17020
                    health:
                      tcp: echo
                      interval: 200ms
                """);
        hearth.ok("app", "install", manifest.toString(), "--timeout", "120");
        try {
            String id = containerStatus(app, "web").path("id").asText();
            await(Duration.ofSeconds(30), () -> "asleep".equals(containerStatus(app, "web").path("health").asText()));
            assertThat(runtime.container(id)).as("stopped, not removed").hasValueSatisfying(c -> assertThat(c.running()).isFalse());
            assertThat(appStatus(app).path("state").asText()).as("ready: its next connection starts it").isEqualTo("healthy");
            assertThat(hearth.ok("status").stdout()).contains("asleep");

            // Held while the same container starts again, then served; the wake is no crash.
            assertThat(echo("127.0.0.2", 17020, 30_000)).isEqualTo("hello");
            assertThat(runtime.container(id)).hasValueSatisfying(c -> assertThat(c.running()).isTrue());
            assertThat(containerStatus(app, "web").path("restarts").asInt()).isZero();

            // An open connection is use: it stays up past its idle time, then sleeps once that connection ends.
            try (Socket open = new Socket("127.0.0.2", 17020)) {
                open.setSoTimeout(5000);
                Thread.sleep(6000);
                assertThat(runtime.container(id)).as("in use").hasValueSatisfying(c -> assertThat(c.running()).isTrue());
                open.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(open.getInputStream().readNBytes(6), StandardCharsets.US_ASCII).strip()).isEqualTo("hello");
            }
            await(Duration.ofSeconds(30), () -> "asleep".equals(containerStatus(app, "web").path("health").asText()));

            // A restarted supervisor (a box rebooted) leaves it asleep until a connection comes.
            Instant lastStart = runtime.container(id).orElseThrow().startedAt().orElseThrow();
            hearth.ok("down");
            hearth.ok("up");
            await(Duration.ofSeconds(30), () -> "healthy".equals(appStatus().path("state").asText())
                    && "asleep".equals(containerStatus(app, "web").path("health").asText()));
            assertThat(runtime.container(id)).as("not started for nobody").hasValueSatisfying(c -> {
                assertThat(c.running()).isFalse();
                assertThat(c.startedAt()).contains(lastStart);
            });
            assertThat(echo("127.0.0.2", 17020, 30_000)).as("woken after the restart").isEqualTo("hello");
        } finally {
            hearth.ok("app", "remove", app);
        }
    }

    @Test
    @Order(13)
    void installingAnAppWhoseImageIsNotBuiltFailsNamingTheLine() {
        Path manifest = EngineFixture.home().root().resolve("tests/apps/unbuilt/app.yaml");
        HearthCli.Result r = hearth.run("app", "install", manifest.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains(manifest + ":7: containers.ghost.image: hearth-test/never-built is not built"
                + " on this machine (run: hearth images build)");
    }

    @Test
    @Order(14)
    void aSecondInstanceOnTheSameEngineRunsTheSameAppWithoutTouchingTheFirst() throws IOException {
        Map<String, String> firstContainers = ids();
        Set<String> firstNetworks = networkIds(instance);
        Path otherState = EngineFixture.newStateDir("supervisor-second");
        String otherInstance = EngineFixture.instanceOf(otherState);
        HearthCli other = new HearthCli(otherState);
        Path manifest = otherState.resolve("app.yaml");
        Files.writeString(manifest, Files.readString(EngineFixture.home().root().resolve("tests/apps/isolation/app.yaml"))
                .replace("listen: 17000", "listen: 17010").replace("listen: 17001", "listen: 17011")
                .replace("listen: 17002", "listen: 17012"));
        try {
            other.ok("up");
            other.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
            assertThat(other.ok("app", "install", manifest.toString(), "--timeout", "120").stdout())
                    .contains("installed isolation-test 1.0.0: healthy in");
            assertThat(echo("127.0.0.1", 17011)).isEqualTo("hello");
            assertThat(runtime.containers(Map.of(HearthLabels.INSTANCE, otherInstance, HearthLabels.APP, APP)))
                    .hasSize(3).extracting(ContainerRuntime.ContainerInfo::id)
                    .doesNotContainAnyElementsOf(firstContainers.values());
            assertThat(networkIds(otherInstance)).isNotEmpty().doesNotContainAnyElementsOf(firstNetworks);
            other.ok("app", "remove", APP);
            assertThat(networkIds(otherInstance)).isEmpty();
        } finally {
            other.run("down");
        }
        assertThat(ids()).isEqualTo(firstContainers);
        assertThat(networkIds(instance)).isEqualTo(firstNetworks);
        assertThat(echo("127.0.0.1", 17001)).isEqualTo("hello");
        assertThat(probe("client", "connect echo 7000")).isEqualTo("connect echo:7000=ok ping");
        assertThat(probe("client", "connect echo 7001")).as("the first instance's chains outlive the second's down")
                .startsWith("connect echo:7001=failed");
    }

    @Test
    @Order(15)
    void removingTheAppLeavesNothingLabelledBehind() {
        hearth.ok("app", "remove", APP);

        assertThat(runtime.containers(appLabels())).isEmpty();
        assertThat(runtime.networks(appLabels())).isEmpty();
        assertThat(state.resolve("volumes")).isEmptyDirectory();
        assertThatThrownBy(() -> echo("127.0.0.1", 17001)).isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> echo("127.0.0.2", 17002)).isInstanceOf(ConnectException.class);
    }

    // --- helpers ---

    private static Map<String, String> appLabels() {
        return Map.of(HearthLabels.INSTANCE, instance, HearthLabels.APP, APP);
    }

    private static String iptablesRules() {
        try {
            return SystemTool.run("iptables", "-w", "-S");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Set<String> networkIds(String owner) {
        return Set.copyOf(runtime.networks(Map.of(HearthLabels.INSTANCE, owner, HearthLabels.APP, APP)).stream()
                .map(ContainerRuntime.NetworkInfo::id).toList());
    }

    private static ContainerRuntime.ContainerInfo container(String name) {
        return runtime.containers(EngineFixture.roleLabels(state, APP, name)).stream()
                .findFirst().orElseThrow(() -> new AssertionError("no container " + name));
    }

    private static Map<String, String> ids() {
        Map<String, String> ids = new HashMap<>();
        for (String name : List.of("echo", "client", "loner")) {
            ids.put(name, container(name).id());
        }
        return ids;
    }

    /** Runs the probe inside one of the app's containers and returns what it printed. */
    private static String probe(String container, String args) {
        return EngineFixture.probe(runtime, container(container).id(), args);
    }

    private static String echo(String host, int port) throws IOException {
        return echo(host, port, 5000);
    }

    private static String echo(String host, int port, int readTimeoutMs) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(readTimeoutMs);
            OutputStream out = s.getOutputStream();
            out.write("hello\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readNBytes(6), StandardCharsets.US_ASCII).strip();
        }
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    private static JsonNode appStatus() {
        return appStatus(APP);
    }

    private static JsonNode appStatus(String name) {
        for (JsonNode app : json(hearth.ok("status", "--json").stdout()).path("apps")) {
            if (app.path("app").asText().equals(name)) {
                return app;
            }
        }
        return json("{}");
    }

    private static JsonNode containerStatus(String name) {
        return containerStatus(APP, name);
    }

    private static JsonNode containerStatus(String app, String name) {
        for (JsonNode c : appStatus(app).path("containers")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("status has no container " + name);
    }

    private static void await(Duration timeout, BooleanSupplier condition) {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        throw new AssertionError("condition not met within " + timeout);
    }
}
