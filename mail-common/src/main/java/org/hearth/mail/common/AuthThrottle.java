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
 * user's and that client's record.
 */
public final class AuthThrottle {

    private record Failures(int count, Instant until) {
    }

    private final int free;
    private final Duration first;
    private final Duration longest;
    private final InstantSource clock;
    private final Map<String, Failures> byKey = new HashMap<>();

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
        for (String key : new String[]{"user:" + user, "client:" + client}) {
            Failures before = byKey.getOrDefault(key, new Failures(0, Instant.MIN));
            int count = before.count() + 1;
            Instant until = clock.instant();
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

    public synchronized void succeeded(String user, String client) {
        byKey.remove("user:" + user);
        byKey.remove("client:" + client);
    }
}
