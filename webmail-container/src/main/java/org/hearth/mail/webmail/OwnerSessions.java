package org.hearth.mail.webmail;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logged-in browsers, held in memory only: a session carries the owner's password (IMAP and
 * submission need it on every connection), so it is never written anywhere, and a restarted
 * webmail asks everyone to log in again. A session ends when idle for {@code idle}, at the latest
 * {@code absolute} after login, at logout, or when its owner logs out everywhere.
 */
final class OwnerSessions {

    /** How long sessions live, and how many one user may hold (the oldest goes first). */
    record Limits(Duration idle, Duration absolute, int perUser) {
        static Limits standard() {
            return new Limits(Duration.ofMinutes(30), Duration.ofHours(12), 20);
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Limits limits;
    private final InstantSource clock;
    private final Map<String, OwnerSession> byId = new ConcurrentHashMap<>();

    OwnerSessions(Limits limits) {
        this(limits, InstantSource.system());
    }

    OwnerSessions(Limits limits, InstantSource clock) {
        this.limits = limits;
        this.clock = clock;
    }

    /** A new session for a login the store accepted; its id is fresh (never one the browser had before). */
    OwnerSession open(String user, String password, Set<String> addresses) {
        Instant now = clock.instant();
        List<OwnerSession> own = new ArrayList<>(byId.values().stream().filter(s -> s.user().equals(user)).toList());
        own.sort((a, b) -> a.created().compareTo(b.created()));
        for (int i = 0; i <= own.size() - limits.perUser(); i++) {
            close(own.get(i).id());
        }
        OwnerSession session = new OwnerSession(token(), user, password, Set.copyOf(addresses), token(), now);
        byId.put(session.id(), session);
        return session;
    }

    /** The live session with this id, touched; empty (and gone) if it expired. */
    Optional<OwnerSession> find(String id) {
        OwnerSession s = id == null ? null : byId.get(id);
        if (s == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (now.isAfter(s.lastUsed().plus(limits.idle())) || now.isAfter(s.created().plus(limits.absolute()))) {
            close(id);
            return Optional.empty();
        }
        s.touch(now);
        return Optional.of(s);
    }

    /** Whether the session with this id is still there, without counting this as its use (a page's background stream). */
    boolean isLive(String id) {
        OwnerSession s = byId.get(id);
        Instant now = clock.instant();
        return s != null && !now.isAfter(s.lastUsed().plus(limits.idle())) && !now.isAfter(s.created().plus(limits.absolute()));
    }

    /** Ends the session with this id, if there is one. */
    void close(String id) {
        OwnerSession s = id == null ? null : byId.remove(id);
        if (s != null) {
            s.close();
        }
    }

    /** Ends every session of {@code user}, on every device; returns how many there were. */
    int closeAll(String user) {
        int n = 0;
        for (OwnerSession s : List.copyOf(byId.values())) {
            if (s.user().equals(user)) {
                close(s.id());
                n++;
            }
        }
        return n;
    }

    /** Drops expired sessions (and their IMAP connections); the service calls it now and then. */
    void sweep() {
        for (String id : List.copyOf(byId.keySet())) {
            if (!isLive(id)) {
                close(id);
            }
        }
    }

    int size() {
        return byId.size();
    }

    /** 256 random bits, URL-safe: session ids and form tokens. */
    static String token() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Compares two tokens in constant time; a missing one never matches. */
    static boolean sameToken(String expected, String given) {
        return expected != null && given != null
                && MessageDigest.isEqual(expected.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                given.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
}
