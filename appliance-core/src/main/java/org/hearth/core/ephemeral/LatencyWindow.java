package org.hearth.core.ephemeral;

import java.util.Arrays;

/** The last few hundred hand-off latencies, for medians in the status; cheap enough to record every one. */
final class LatencyWindow {

    private final long[] nanos = new long[512];
    private int count;
    private int next;

    synchronized void record(long value) {
        nanos[next] = value;
        next = (next + 1) % nanos.length;
        count = Math.min(count + 1, nanos.length);
    }

    /** The {@code q} quantile (0..1) in milliseconds, or 0 before anything was recorded. */
    synchronized double quantileMillis(double q) {
        if (count == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        int index = (int) Math.min(count - 1, Math.round(q * (count - 1)));
        return sorted[index] / 1e6;
    }
}
