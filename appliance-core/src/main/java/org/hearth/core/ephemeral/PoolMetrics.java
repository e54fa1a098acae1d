package org.hearth.core.ephemeral;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;

/**
 * A warm pool's counters and latencies, for its status and a summary line in the log. Not
 * thread-safe: the pool calls it under its own monitor.
 */
final class PoolMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(WarmPool.class);
    private static final Duration SUMMARY_EVERY = Duration.ofSeconds(10);

    private long created;
    private long destroyed;
    private long failed;
    private long turnedAway;
    private final LatencyWindow handoff = new LatencyWindow();
    private final LatencyWindow startup = new LatencyWindow();
    private String lastSummary = "";
    private long lastSummaryAt = System.nanoTime() - SUMMARY_EVERY.toNanos();

    /** A fresh container became ready, {@code nanos} after its start began. */
    void created(long nanos) {
        created++;
        startup.record(nanos);
    }

    void destroyed(int count) {
        destroyed += count;
    }

    /** A start that failed, or a warm container that died before serving. */
    void failed() {
        failed++;
    }

    void turnedAway() {
        turnedAway++;
    }

    /** A connection got its container {@code nanos} after it asked. */
    void handedOff(long nanos) {
        handoff.record(nanos);
    }

    /** One line when anything changed, at most every 10 s: the pool's story without a line per connection. */
    void logSummary(String pool, int warm, int starting, int inUse, int ceiling) {
        long now = System.nanoTime();
        String counters = created + "/" + destroyed + "/" + failed + "/" + turnedAway;
        if (counters.equals(lastSummary) || now - lastSummaryAt < SUMMARY_EVERY.toNanos()) {
            return;
        }
        lastSummary = counters;
        lastSummaryAt = now;
        LOG.info("pool={} event=summary warm={} starting={} in_use={} ceiling={} created={} destroyed={} failed={}"
                        + " turned_away={} handoff_p50_ms={} handoff_p95_ms={} start_p50_ms={}", pool, warm, starting,
                inUse, ceiling, created, destroyed, failed, turnedAway,
                String.format("%.1f", handoff.quantileMillis(0.5)), String.format("%.1f", handoff.quantileMillis(0.95)),
                String.format("%.0f", startup.quantileMillis(0.5)));
    }

    PoolStatus status(int warm, int starting, int inUse, int waiting, PoolSettings settings, Optional<String> problem) {
        return new PoolStatus(warm, starting, inUse, waiting, settings.warm(), settings.ceiling(),
                settings.maxWait().toMillis(), created, destroyed, failed, turnedAway,
                handoff.quantileMillis(0.5), handoff.quantileMillis(0.95), startup.quantileMillis(0.5), problem);
    }
}
