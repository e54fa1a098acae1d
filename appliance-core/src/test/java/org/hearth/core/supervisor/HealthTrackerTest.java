package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Health verdicts against a real TCP port on loopback (no engine needed: the probe is a plain connect). */
class HealthTrackerTest {

    @Test
    void restartedContainerIsCheckedAgainRatherThanStillHealthy() throws IOException {
        try (ServerSocket port = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            AppManifest.Container decl = ManifestReader.read("t.yaml", """
                    schema: 1
                    app: t
                    version: 1.0.0
                    containers:
                      c:
                        image: hearth/x
                        lifecycle: service
                        ports: [{name: p, port: %d, exposure: internal}]
                        health: {tcp: p, interval: 10s, start-period: 60s}
                    """.formatted(port.getLocalPort())).containers().get("c");
            HealthTracker tracker = new HealthTracker(null);
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            ContainerInfo first = info(t0, true);
            assertThat(tracker.check(first, decl, t0)).isEqualTo(SupervisorStatus.Health.HEALTHY);

            port.close();
            // Same container id, started again one second later, inside the check interval.
            ContainerInfo again = info(t0.plusSeconds(1), true);
            assertThat(tracker.check(again, decl, t0.plusSeconds(2))).isEqualTo(SupervisorStatus.Health.STARTING);
        }
    }

    @Test
    void anUnhealthyExecCheckCarriesItsExitCodeAndLastLineIntoTheReason() throws Exception {
        AppManifest.Container decl = ManifestReader.read("t.yaml", """
                schema: 1
                app: t
                version: 1.0.0
                containers:
                  c:
                    image: hearth/x
                    lifecycle: service
                    health: {command: [sh, -c, "echo checking; echo 'db: connection refused' >&2; exit 3"], interval: 1s, retries: 1, start-period: 0s}
                """).containers().get("c");
        HealthTracker tracker = new HealthTracker(hostExec());
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        ContainerInfo c = info(t0, true);

        assertThat(tracker.check(c, decl, t0.plusSeconds(5))).isEqualTo(SupervisorStatus.Health.UNHEALTHY);
        assertThat(tracker.reason(c)).hasValue(
                "health check: sh -c echo checking; echo 'db: connection refused' >&2; exit 3 exited 3: db: connection refused");
    }

    @Test
    void anExecCheckThatCannotRunSaysWhy() throws Exception {
        AppManifest.Container decl = ManifestReader.read("t.yaml", """
                schema: 1
                app: t
                version: 1.0.0
                containers:
                  c:
                    image: hearth/x
                    lifecycle: service
                    health: {command: [/nonexistent/check], interval: 1s, retries: 1, start-period: 0s}
                """).containers().get("c");
        HealthTracker tracker = new HealthTracker(hostExec());
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        ContainerInfo c = info(t0, true);

        assertThat(tracker.check(c, decl, t0.plusSeconds(5))).isEqualTo(SupervisorStatus.Health.UNHEALTHY);
        assertThat(tracker.reason(c)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("health check: /nonexistent/check could not run: ").contains("/nonexistent/check"));
    }

    /**
     * A fake runtime: only exec, and it runs the check as a real process on the host instead of in
     * a container, so the tracker sees a real exit code and real output without an engine.
     */
    private static ContainerRuntime hostExec() {
        return (ContainerRuntime) Proxy.newProxyInstance(ContainerRuntime.class.getClassLoader(),
                new Class<?>[] {ContainerRuntime.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("exec")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    @SuppressWarnings("unchecked")
                    List<String> command = (List<String>) args[1];
                    Process p;
                    try {
                        p = new ProcessBuilder(command).start();
                    } catch (IOException e) {
                        throw new IllegalStateException("exec " + command.get(0) + " failed: " + e.getMessage(), e);
                    }
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                    return new ContainerRuntime.Run((String) args[0], p.waitFor(), new ContainerRuntime.Output(out, err));
                });
    }

    private static ContainerInfo info(Instant started, boolean running) {
        return new ContainerInfo("abc123", "c", "img", Map.of(), running, Optional.empty(), Optional.of(started),
                Map.of("net", "127.0.0.1"));
    }
}
