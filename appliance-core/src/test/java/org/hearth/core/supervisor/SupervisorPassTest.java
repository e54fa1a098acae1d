package org.hearth.core.supervisor;

import org.hearth.core.HearthHome;
import org.hearth.core.network.EgressConfig;
import org.hearth.core.overlay.LoopbackOverlay;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A supervisor pass in which one app's step throws. The engine is a fake (an in-memory container
 * table; the image of app "bad" makes the engine call throw), because no real engine call can be
 * made to throw on cue; the firewall is the real one, as in EdgeFirewallTest, and is removed after.
 */
class SupervisorPassTest {

    @TempDir
    Path root;

    private Supervisor supervisor;
    private volatile boolean engineDown;
    private final Map<String, ContainerInfo> engine = new ConcurrentHashMap<>();

    @AfterEach
    void shutDown() {
        if (supervisor != null) {
            engineDown = false;
            supervisor.shutdown(true);
        }
    }

    private Supervisor start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "applies the host's iptables: needs root");
        HearthHome home = new HearthHome(root, root.resolve("state"));
        InstalledApps apps = new InstalledApps(home.stateDir("apps"));
        apps.install("good", manifest("good"));
        apps.install("bad", manifest("bad"));
        supervisor = new Supervisor(home, fakeEngine(), new LoopbackOverlay(), InetAddress.getLoopbackAddress(), EgressConfig.defaults(),
                Optional.empty());
        return supervisor;
    }

    private static String manifest(String app) {
        return """
                schema: 1
                app: %s
                version: 1.0.0
                containers:
                  worker:
                    image: hearth/%s
                    lifecycle: service
                """.formatted(app, app);
    }

    @Test
    void oneAppsFailingStepLeavesTheOtherAppsReconciledAndItsStatusSaysWhichPartFailedAndWhy() throws Exception {
        SupervisorStatus status = start().reconcileOnce();

        assertThat(status.app("good")).hasValueSatisfying(a -> {
            assertThat(a.state()).isEqualTo(SupervisorStatus.AppState.HEALTHY);
            assertThat(a.containers()).singleElement().satisfies(c -> assertThat(c.running()).isTrue());
        });
        assertThat(status.app("bad")).hasValueSatisfying(a -> {
            assertThat(a.state()).isEqualTo(SupervisorStatus.AppState.FAILING);
            assertThat(a.problem()).hasValue(
                    "step services (container worker) failed: IllegalStateException: engine error 500 reading image hearth/bad");
        });
    }

    @Test
    void aFailingPassStepIsNamedInTheStatusAndTheStepsAfterItStillRun() throws Exception {
        Supervisor s = start();
        String orphan = String.format("%064x", 999);
        engine.put(orphan, new ContainerInfo(orphan, "orphan", "sha256:x", Map.of(HearthLabels.MANAGED, "true",
                HearthLabels.INSTANCE, new HearthHome(root, root.resolve("state")).instanceId(), HearthLabels.APP, "gone",
                HearthLabels.ROLE, "worker"), true, Optional.empty(), Optional.of(Instant.now()), Map.of()));

        SupervisorStatus status = s.reconcileOnce();

        assertThat(status.problems()).containsExactly(
                "step orphans failed: IllegalStateException: engine error 409 removing a container of app gone");
        assertThat(status.app("good")).hasValueSatisfying(a -> assertThat(a.state()).isEqualTo(SupervisorStatus.AppState.HEALTHY));
        assertThat(status.toJson()).contains("\"state\" : \"healthy\"", "\"health\" : \"healthy\"");
    }

    @Test
    void statusJsonIsWrittenAfterAPassThatCouldNotListTheEngineAndShowsWhy() throws Exception {
        Supervisor s = start();
        engineDown = true;
        Path statusFile = Supervisor.statusFile(new HearthHome(root, root.resolve("state")));
        Thread loop = new Thread(s::run, "supervisor-under-test");
        loop.start();
        try {
            Instant deadline = Instant.now().plusSeconds(10);
            while (!Files.exists(statusFile) && Instant.now().isBefore(deadline)) {
                Thread.sleep(50);
            }
            SupervisorStatus status = SupervisorStatus.readFrom(statusFile).orElseThrow();

            assertThat(status.apps()).extracting(SupervisorStatus.App::app).containsExactlyInAnyOrder("good", "bad");
            assertThat(status.apps()).allSatisfy(a -> {
                assertThat(a.state()).isEqualTo(SupervisorStatus.AppState.FAILING);
                assertThat(a.problem()).hasValue("step list-engine-objects failed:"
                        + " IllegalStateException: engine down: connection refused");
            });
        } finally {
            s.stop();
            loop.join(Duration.ofSeconds(5).toMillis());
        }
    }

    private ContainerRuntime fakeEngine() {
        return (ContainerRuntime) Proxy.newProxyInstance(ContainerRuntime.class.getClassLoader(),
                new Class<?>[] {ContainerRuntime.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "containers" -> {
                        if (engineDown) {
                            throw new IllegalStateException("engine down: connection refused");
                        }
                        yield List.copyOf(engine.values());
                    }
                    case "networks" -> List.of();
                    case "imageId" -> {
                        if (args[0].equals("hearth/bad")) {
                            throw new IllegalStateException("engine error 500 reading image hearth/bad");
                        }
                        yield Optional.of("sha256:" + args[0].hashCode());
                    }
                    case "create" -> {
                        ContainerSpec spec = (ContainerSpec) args[0];
                        String id = String.format("%064x", engine.size() + 1);
                        engine.put(id, new ContainerInfo(id, "c" + id, "sha256:x", spec.labels(), false,
                                Optional.empty(), Optional.empty(), Map.of()));
                        yield id;
                    }
                    case "start" -> {
                        ContainerInfo c = engine.get((String) args[0]);
                        engine.put(c.id(), new ContainerInfo(c.id(), c.name(), c.imageId(), c.labels(), true,
                                Optional.empty(), Optional.of(Instant.now()), Map.of()));
                        yield null;
                    }
                    case "stop" -> {
                        ContainerInfo c = engine.get((String) args[0]);
                        engine.put(c.id(), new ContainerInfo(c.id(), c.name(), c.imageId(), c.labels(), false,
                                Optional.of(0), c.startedAt(), Map.of()));
                        yield null;
                    }
                    case "container" -> Optional.ofNullable(engine.get((String) args[0]));
                    case "remove" -> {
                        if ("gone".equals(engine.get((String) args[0]).labels().get(HearthLabels.APP))) {
                            throw new IllegalStateException("engine error 409 removing a container of app gone");
                        }
                        engine.remove((String) args[0]);
                        yield null;
                    }
                    case "removeNetwork" -> null;
                    case "gateway" -> Optional.empty();
                    case "ensureNetwork" -> new ContainerRuntime.EngineNetwork("net-" + args[0], "br-" + args[0]);
                    case "engineKind" -> Engine.Kind.DOCKER;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "fake engine";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
