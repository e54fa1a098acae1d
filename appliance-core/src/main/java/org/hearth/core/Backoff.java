package org.hearth.core;

import java.time.Duration;

/**
 * How long to wait after failures in a row: nothing until {@code waitFrom} failures, then
 * {@code first}, doubling with each further failure, never more than {@code ceiling}. The one
 * schedule behind container restarts, warm-pool starts, accept loops, wrong passphrases and
 * WireGuard starts.
 */
public record Backoff(Duration first, Duration ceiling, int waitFrom) {

    public Backoff {
        if (first.isNegative() || first.isZero() || ceiling.compareTo(first) < 0 || waitFrom < 1) {
            throw new IllegalArgumentException("backoff needs 0 < first <= ceiling and waitFrom >= 1: "
                    + first + ", " + ceiling + ", " + waitFrom);
        }
    }

    /** Waits from the first failure on. */
    public Backoff(Duration first, Duration ceiling) {
        this(first, ceiling, 1);
    }

    /** The wait after {@code failures} failures in a row. */
    public Duration after(int failures) {
        if (failures < waitFrom) {
            return Duration.ZERO;
        }
        int doublings = failures - waitFrom;
        // Past 62 doublings the shift overflows; the ceiling is reached long before for any sane first.
        if (doublings >= 62 || first.toNanos() > ceiling.toNanos() >> doublings) {
            return ceiling;
        }
        return Duration.ofNanos(first.toNanos() << doublings);
    }
}
