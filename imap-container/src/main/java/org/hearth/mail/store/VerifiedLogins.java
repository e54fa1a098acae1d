package org.hearth.mail.store;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * Passwords that passed their Argon2id check lately, so that a client logging in again (a phone
 * sends each message in a session of its own; an IMAP client opens several) is not made to wait
 * for, nor the box to pay, another Argon2id computation: 100 ms here, about a second on a Pi 3.
 * As Dovecot's auth cache does. Kept per user: an HMAC of the password under a key made at start
 * and never written anywhere, with the stored hash it was checked against, for {@link #TTL}. A
 * changed password changes the stored hash and a removed user has none, so neither is ever
 * answered from here; a wrong password is always checked in full, and never remembered.
 */
final class VerifiedLogins {

    static final Duration TTL = Duration.ofMinutes(15);

    private final BiPredicate<char[], String> verifier;
    private final InstantSource clock;
    private final SecretKeySpec key;
    private final Map<String, Verified> verified = new HashMap<>();

    private record Verified(String storedHash, byte[] mac, Instant until) {
    }

    VerifiedLogins(BiPredicate<char[], String> verifier, InstantSource clock) {
        this.verifier = verifier;
        this.clock = clock;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    /** Whether {@code password} is the one {@code storedHash} was made from. */
    boolean check(String user, char[] password, String storedHash) {
        byte[] mac = mac(user, password);
        Instant now = clock.instant();
        synchronized (verified) {
            Verified v = verified.get(user);
            // A wall clock set back does not lengthen what is remembered: until() is at most TTL ahead.
            if (v != null && v.storedHash().equals(storedHash) && now.isBefore(v.until())
                    && !now.isBefore(v.until().minus(TTL)) && MessageDigest.isEqual(v.mac(), mac)) {
                return true;
            }
        }
        if (!verifier.test(password, storedHash)) {
            return false;
        }
        synchronized (verified) {
            // What has lapsed, or was checked against a hash since replaced, goes: nothing lingers for removed users.
            verified.values().removeIf(e -> !now.isBefore(e.until()));
            verified.put(user, new Verified(storedHash, mac, now.plus(TTL)));
        }
        return true;
    }

    private byte[] mac(String user, char[] password) {
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(key);
            hmac.update(user.getBytes(StandardCharsets.UTF_8));
            hmac.update((byte) 0);
            hmac.update(bytes.duplicate());
            return hmac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no HmacSHA256 in this Java runtime", e);
        } finally {
            if (bytes.hasArray()) {
                Arrays.fill(bytes.array(), (byte) 0);
            }
        }
    }
}
