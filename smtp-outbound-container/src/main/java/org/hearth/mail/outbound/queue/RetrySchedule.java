package org.hearth.mail.outbound.queue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * When a deferred message is tried again, when its sender hears that it is late, and when it is
 * given up: Postfix's defaults (minimal_backoff_time 300 s, maximal_backoff_time 4000 s,
 * delay_warning_time 4 h, maximal_queue_lifetime 5 d). The wait doubles with each attempt.
 */
public record RetrySchedule(Duration minimalBackoff, Duration maximalBackoff, Duration delayWarning, Duration lifetime) {

    public static RetrySchedule postfix() {
        return new RetrySchedule(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofHours(4), Duration.ofDays(5));
    }

    /**
     * Postfix's schedule, with any of QUEUE_MINIMAL_BACKOFF, QUEUE_MAXIMAL_BACKOFF,
     * QUEUE_DELAY_WARNING and QUEUE_LIFETIME from the environment (a number and s, m, h or d, as
     * Postfix writes them: 300s, 4h, 5d); a bad value is an error naming the variable.
     */
    public static RetrySchedule fromEnvironment(Map<String, String> env) {
        RetrySchedule d = postfix();
        RetrySchedule s = new RetrySchedule(duration(env, "QUEUE_MINIMAL_BACKOFF", d.minimalBackoff()),
                duration(env, "QUEUE_MAXIMAL_BACKOFF", d.maximalBackoff()), duration(env, "QUEUE_DELAY_WARNING", d.delayWarning()),
                duration(env, "QUEUE_LIFETIME", d.lifetime()));
        if (s.maximalBackoff().compareTo(s.minimalBackoff()) < 0) {
            throw new IllegalArgumentException("QUEUE_MAXIMAL_BACKOFF (" + s.maximalBackoff().toSeconds()
                    + "s) is shorter than QUEUE_MINIMAL_BACKOFF (" + s.minimalBackoff().toSeconds() + "s)");
        }
        return s;
    }

    private static Duration duration(Map<String, String> env, String name, Duration fallback) {
        String value = env.getOrDefault(name, "").strip();
        if (value.isEmpty()) {
            return fallback;
        }
        if (!value.matches("[1-9]\\d{0,6}[smhd]")) {
            throw new IllegalArgumentException(name + " \"" + value + "\" is not a duration such as 300s, 30m, 4h or 5d");
        }
        long n = Long.parseLong(value.substring(0, value.length() - 1));
        return switch (value.charAt(value.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
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
