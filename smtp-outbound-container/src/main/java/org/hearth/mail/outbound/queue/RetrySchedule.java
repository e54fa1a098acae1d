package org.hearth.mail.outbound.queue;

import java.time.Duration;
import java.time.Instant;

/**
 * When a deferred message is tried again, when its sender hears that it is late, and when it is
 * given up: Postfix's defaults (minimal_backoff_time 300 s, maximal_backoff_time 4000 s,
 * delay_warning_time 4 h, maximal_queue_lifetime 5 d). The wait doubles with each attempt.
 */
public record RetrySchedule(Duration minimalBackoff, Duration maximalBackoff, Duration delayWarning, Duration lifetime) {

    public static RetrySchedule postfix() {
        return new RetrySchedule(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofHours(4), Duration.ofDays(5));
    }

    /** The next try after {@code attempts} failed ones (1 or more), counted from {@code now}. */
    public Instant nextAttempt(int attempts, Instant now) {
        Duration wait = minimalBackoff;
        for (int i = 1; i < attempts && wait.compareTo(maximalBackoff) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return now.plus(wait.compareTo(maximalBackoff) > 0 ? maximalBackoff : wait);
    }

    boolean expired(Instant created, Instant now) {
        return !now.isBefore(created.plus(lifetime));
    }

    boolean delayWarningDue(Instant created, Instant now) {
        return !now.isBefore(created.plus(delayWarning));
    }
}
