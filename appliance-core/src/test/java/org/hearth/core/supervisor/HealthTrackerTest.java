package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
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
            assertThat(tracker.check(first, decl, t0)).isEqualTo(HealthTracker.HEALTHY);

            port.close();
            // Same container id, started again one second later, inside the check interval.
            ContainerInfo again = info(t0.plusSeconds(1), true);
            assertThat(tracker.check(again, decl, t0.plusSeconds(2))).isEqualTo(HealthTracker.STARTING);
        }
    }

    private static ContainerInfo info(Instant started, boolean running) {
        return new ContainerInfo("abc123", "c", "img", Map.of(), running, Optional.empty(), Optional.of(started),
                Map.of("net", "127.0.0.1"));
    }
}
