package org.hearth.mail.common;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Slows password guessing (submission, and the store's login check behind it): after {@code free}
 * failed logins in a row, a user name or a client address must wait {@code first} before the next
 * try, twice as long after each further failure (up to {@code longest}); a success clears that
 * user's and that client's record. A record quiet for a day is forgotten (a guesser that waits that
 * long between tries is no threat), so what is kept is bounded by how many names and clients failed
 * in the last day, never by all that ever did.
 */
public final class AuthThrottle {

    private record Failures(int count, Instant until) {
    }

    private final int free;
    private final Duration first;
    private final Duration longest;
    private final InstantSource clock;
    private final Map<String, Failures> byKey = new HashMap<>();
    /** How long a record is kept after its last failure's wait ends. */
    private static final Duration FORGET_AFTER = Duration.ofDays(1);
    /** Records are swept when they have doubled since the last sweep (at least this many): rarely, never per failure. */
    private static final int FIRST_SWEEP = 1024;
    private int sweepAt = FIRST_SWEEP;

    public AuthThrottle(int free, Duration first, Duration longest, InstantSource clock) {
        this.free = free;
        this.first = first;
        this.longest = longest;
        this.clock = clock;
    }

    /** 3 free tries, then 2 s doubling to 5 minutes. */
    public static AuthThrottle standard() {
        return new AuthThrottle(3, Duration.ofSeconds(2), Duration.ofMinutes(5), InstantSource.system());
    }

    /** How long this login must wait before it may be tried; empty when it may be now. */
    public synchronized Optional<Duration> refusal(String user, String client) {
        Instant now = clock.instant();
        Duration longestWait = Duration.ZERO;
        for (String key : new String[]{"user:" + user, "client:" + client}) {
            Failures f = byKey.get(key);
            if (f != null && f.until().isAfter(now) && Duration.between(now, f.until()).compareTo(longestWait) > 0) {
                longestWait = Duration.between(now, f.until());
            }
        }
        return longestWait.isZero() ? Optional.empty() : Optional.of(longestWait);
    }

    public synchronized void failed(String user, String client) {
        Instant now = clock.instant();
        if (byKey.size() > sweepAt) {
            byKey.values().removeIf(f -> forgotten(f, now));
            sweepAt = Math.max(FIRST_SWEEP, 2 * byKey.size());
        }
        for (String key : new String[]{"user:" + user, "client:" + client}) {
            Failures before = byKey.get(key);
            if (before == null || forgotten(before, now)) {
                before = new Failures(0, Instant.MIN);
            }
            int count = before.count() + 1;
            Instant until = now;
            if (count >= free) {
                Duration wait = first;
                for (int i = free; i < count && wait.compareTo(longest) < 0; i++) {
                    wait = wait.multipliedBy(2);
                }
                until = until.plus(wait.compareTo(longest) > 0 ? longest : wait);
            }
            byKey.put(key, new Failures(count, until));
        }
    }

    private boolean forgotten(Failures f, Instant now) {
        return f.until().plus(FORGET_AFTER).isBefore(now);
    }

    /** How many names and clients have a record (for tests). */
    synchronized int records() {
        return byKey.size();
    }

    public synchronized void succeeded(String user, String client) {
        byKey.remove("user:" + user);
        byKey.remove("client:" + client);
    }
}
