package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ReadinessProbe;
import org.hearth.core.supervisor.SupervisorStatus.Health;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs each container's declared health check (its {@link ReadinessProbe}) at the declared
 * interval, and remembers the verdict between passes.
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

    /** Forgets what this run of the container proved: it is being stopped, and its next start proves it anew. */
    void forget(ContainerInfo info) {
        tracks.remove(trackKey(info));
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
        return ReadinessProbe.declared(runtime, decl, health).check(info, health.timeoutOrDefault())
                .map(why -> "health check: " + why);
    }
}
