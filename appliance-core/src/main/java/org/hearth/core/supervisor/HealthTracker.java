package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.supervisor.SupervisorStatus.Health;

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

    private final ContainerRuntime runtime;
    private final Map<String, Track> tracks = new HashMap<>();

    HealthTracker(ContainerRuntime runtime) {
        this.runtime = runtime;
    }

    private static final class Track {
        Instant lastCheck = Instant.EPOCH;
        int failures;
        boolean everHealthy;
        Health verdict = Health.STARTING;
        /** Why the last probe failed; empty after one that passed. */
        Optional<String> reason = Optional.empty();
    }

    Health check(ContainerInfo info, AppManifest.Container decl, Instant now) {
        if (!info.running()) {
            tracks.remove(trackKey(info));
            return Health.STOPPED;
        }
        Optional<AppManifest.Health> declared = decl.health();
        if (declared.isEmpty()) {
            return Health.HEALTHY;
        }
        AppManifest.Health health = declared.get();
        // Keyed by start, not just id: a restarted container has proved nothing yet.
        Track track = tracks.computeIfAbsent(trackKey(info), id -> new Track());
        if (Duration.between(track.lastCheck, now).compareTo(health.intervalOrDefault()) < 0) {
            return track.verdict;
        }
        track.lastCheck = now;
        track.reason = probe(info, decl, health);
        if (track.reason.isEmpty()) {
            track.failures = 0;
            track.everHealthy = true;
            track.verdict = Health.HEALTHY;
        } else {
            track.failures++;
            Instant started = info.startedAt().orElse(now);
            boolean inStartPeriod = !track.everHealthy && now.isBefore(started.plus(health.startPeriodOrDefault()));
            if (!inStartPeriod && track.failures >= health.retriesOrDefault()) {
                track.verdict = Health.UNHEALTHY;
            }
        }
        return track.verdict;
    }

    /** Why a container is unhealthy (what its last check said); empty unless it is. */
    Optional<String> reason(ContainerInfo info) {
        Track track = tracks.get(trackKey(info));
        return track == null || track.verdict != Health.UNHEALTHY ? Optional.empty() : track.reason;
    }

    /** Forgets containers that no longer exist. */
    void retain(Set<String> containerIds) {
        tracks.keySet().removeIf(key -> !containerIds.contains(key.substring(0, key.indexOf('@'))));
    }

    private static String trackKey(ContainerInfo info) {
        return info.id() + "@" + info.startedAt().map(Instant::toString).orElse("");
    }

    /** Empty when the check passed; otherwise what it said, for the status. */
    private Optional<String> probe(ContainerInfo info, AppManifest.Container decl, AppManifest.Health health) {
        Duration timeout = health.timeoutOrDefault();
        if (health.tcp().isPresent()) {
            Optional<AppManifest.Port> port = decl.port(health.tcp().get());
            if (port.isEmpty()) {
                return Optional.of("health check: no port named " + health.tcp().get());
            }
            String last = "the container has no address";
            for (String address : info.addresses().values()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address, port.get().port()), (int) timeout.toMillis());
                    return Optional.empty();
                } catch (IOException e) {
                    // Try the container's next network, if any.
                    last = address + ":" + port.get().port() + ": " + e.getMessage();
                }
            }
            return Optional.of("health check: tcp " + last);
        }
        try {
            if (!health.command().isEmpty()) {
                ContainerRuntime.Run run = runtime.exec(info.id(), health.command(), timeout);
                if (run.exitCode() == 0) {
                    return Optional.empty();
                }
                String output = lastLine(run.output().stderr()).or(() -> lastLine(run.output().stdout()))
                        .map(line -> ": " + line).orElse(" (no output)");
                return Optional.of("health check " + String.join(" ", health.command()) + " exited "
                        + run.exitCode() + output);
            }
            if (health.log().isPresent()) {
                return runtime.logsSince(info.id(), info.startedAt().orElse(Instant.EPOCH)).contains(health.log().get())
                        ? Optional.empty()
                        : Optional.of("health check: \"" + health.log().get() + "\" not in its output yet");
            }
        } catch (RuntimeException e) {
            return Optional.of("health check " + String.join(" ", health.command()) + " could not run: " + e.getMessage());
        }
        return Optional.empty();
    }

    private static Optional<String> lastLine(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        String[] lines = text.strip().split("\n");
        String line = lines[lines.length - 1].strip();
        return Optional.of(line.length() > 200 ? line.substring(0, 200) + "…" : line);
    }
}
