package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs each container's declared health check from the supervisor's side (a TCP connect from
 * the host, a command inside the container, or a line in its output) at the declared interval,
 * and remembers the verdict between passes.
 */
final class HealthTracker {

    static final String HEALTHY = "healthy";
    static final String STARTING = "starting";
    static final String UNHEALTHY = "unhealthy";
    static final String STOPPED = "stopped";

    private final ContainerRuntime runtime;
    private final Map<String, Track> tracks = new HashMap<>();

    HealthTracker(ContainerRuntime runtime) {
        this.runtime = runtime;
    }

    private static final class Track {
        Instant lastCheck = Instant.EPOCH;
        int failures;
        boolean everHealthy;
        String verdict = STARTING;
    }

    String check(ContainerInfo info, AppManifest.Container decl, Instant now) {
        if (!info.running()) {
            tracks.remove(trackKey(info));
            return STOPPED;
        }
        Optional<AppManifest.Health> declared = decl.health();
        if (declared.isEmpty()) {
            return HEALTHY;
        }
        AppManifest.Health health = declared.get();
        // Keyed by start, not just id: a restarted container has proved nothing yet.
        Track track = tracks.computeIfAbsent(trackKey(info), id -> new Track());
        if (Duration.between(track.lastCheck, now).compareTo(health.intervalOrDefault()) < 0) {
            return track.verdict;
        }
        track.lastCheck = now;
        if (probe(info, decl, health)) {
            track.failures = 0;
            track.everHealthy = true;
            track.verdict = HEALTHY;
        } else {
            track.failures++;
            Instant started = info.startedAt().orElse(now);
            boolean inStartPeriod = !track.everHealthy && now.isBefore(started.plus(health.startPeriodOrDefault()));
            if (!inStartPeriod && track.failures >= health.retriesOrDefault()) {
                track.verdict = UNHEALTHY;
            }
        }
        return track.verdict;
    }

    /** Forgets containers that no longer exist. */
    void retain(Set<String> containerIds) {
        tracks.keySet().removeIf(key -> !containerIds.contains(key.substring(0, key.indexOf('@'))));
    }

    private static String trackKey(ContainerInfo info) {
        return info.id() + "@" + info.startedAt().map(Instant::toString).orElse("");
    }

    private boolean probe(ContainerInfo info, AppManifest.Container decl, AppManifest.Health health) {
        Duration timeout = health.timeoutOrDefault();
        if (health.tcp().isPresent()) {
            Optional<AppManifest.Port> port = decl.port(health.tcp().get());
            if (port.isEmpty()) {
                return false;
            }
            for (String address : info.addresses().values()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address, port.get().port()), (int) timeout.toMillis());
                    return true;
                } catch (IOException e) {
                    // Try the container's next network, if any.
                }
            }
            return false;
        }
        try {
            if (!health.command().isEmpty()) {
                return runtime.exec(info.id(), health.command(), timeout).exitCode() == 0;
            }
            if (health.log().isPresent()) {
                return runtime.logsSince(info.id(), info.startedAt().orElse(Instant.EPOCH)).contains(health.log().get());
            }
        } catch (RuntimeException e) {
            return false;
        }
        return true;
    }
}
