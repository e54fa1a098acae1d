package org.hearth.core.ownerapp;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The owner app's logins: a random token per logged-in browser, kept in memory only (a supervisor
 * restart logs everyone out), ended after {@link #IDLE} without a request, and at most {@link #MAX}
 * at once (a new login ends the oldest). The token travels in a {@code __Host-} cookie: secure,
 * HTTP-only, same-site strict.
 */
final class OwnerSessions {

    static final Duration IDLE = Duration.ofHours(12);
    static final int MAX = 16;
    static final String COOKIE = "__Host-hearth-session";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;
    /** Token → last request, oldest login first. */
    private final Map<String, Instant> open = new LinkedHashMap<>();

    OwnerSessions(Clock clock) {
        this.clock = clock;
    }

    synchronized String open() {
        dropIdle();
        while (open.size() >= MAX) {
            open.remove(open.keySet().iterator().next());
        }
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        open.put(token, clock.instant());
        return token;
    }

    /** Whether the request's cookie header carries an open session; if so its idle time starts again. */
    synchronized boolean touch(Optional<String> cookieHeader) {
        dropIdle();
        Optional<String> token = token(cookieHeader);
        if (token.isEmpty() || !open.containsKey(token.get())) {
            return false;
        }
        open.put(token.get(), clock.instant());
        return true;
    }

    synchronized void close(Optional<String> cookieHeader) {
        token(cookieHeader).ifPresent(open::remove);
    }

    static String setCookie(String token) {
        return COOKIE + "=" + token + "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + IDLE.toSeconds();
    }

    static String clearCookie() {
        return COOKIE + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
    }

    private static Optional<String> token(Optional<String> cookieHeader) {
        if (cookieHeader.isEmpty()) {
            return Optional.empty();
        }
        for (String part : cookieHeader.get().split(";")) {
            String cookie = part.strip();
            if (cookie.startsWith(COOKIE + "=")) {
                return Optional.of(cookie.substring(COOKIE.length() + 1));
            }
        }
        return Optional.empty();
    }

    private void dropIdle() {
        Instant oldest = clock.instant().minus(IDLE);
        open.values().removeIf(last -> last.isBefore(oldest));
    }
}
