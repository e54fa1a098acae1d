package org.hearth.registry;

import org.hearth.registry.protocol.PairingSeal;

import java.security.MessageDigest;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Carries a box's and its owner's phone's pairing messages both ways, so a box behind NAT needs
 * only to reach out. The registry knows a channel by a name derived from the pairing code and can
 * read none of the messages (sealed end to end, {@link PairingSeal}); it keeps them in memory only,
 * since a pairing lasts minutes. A box opens its channel and keeps asking for messages; once paired
 * it closes the channel with a token only the code gives, and the channel is recorded as used for
 * good, so the code pairs nothing again. Messages are answered to long polls (up to
 * {@link #LONGEST_WAIT}), with a bound on how many wait at once. Anyone may open a channel, so
 * memory is bounded three ways: channels per client address, bytes per channel, and bytes in all.
 */
final class PairingRelay {

    static final int MAX_MESSAGE = 64 * 1024;
    static final Duration LONGEST_WAIT = Duration.ofSeconds(25);
    private static final int MAX_PER_DIRECTION = 32;
    private static final int MAX_CHANNELS = 10_000;
    /** Channels one client address may hold open at once: a home's few boxes, not a flood. */
    static final int MAX_CHANNELS_PER_CLIENT = 8;
    /** What one channel may hold, both directions: a pairing's few messages (the largest, the done reply, ≈ 10 KiB). */
    static final int MAX_CHANNEL_BYTES = 512 * 1024;
    /** What all channels together may hold, so that no one can fill the registry's memory. */
    static final long DEFAULT_BUFFERED_BYTES = 32L * 1024 * 1024;
    /** Each waiting poll holds one of the server's threads ({@link RegistryService#THREADS}). */
    static final int MAX_WAITING = 150;
    /** A box that has not asked for its messages for this long is taken to be off. */
    private static final Duration BOX_GONE = Duration.ofSeconds(90);
    private static final Duration FORGOTTEN = Duration.ofMinutes(30);
    private static final Pattern MESSAGE = Pattern.compile("v1\\.[0-9]{1,9}\\.[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]{22,}");

    private final RegistryStore store;
    private final Clock clock;
    private final Map<String, Channel> channels = new HashMap<>();
    private final Semaphore waiting = new Semaphore(MAX_WAITING);
    private final long maxBuffered;
    /** Bytes held by all channels' messages. */
    private final AtomicLong buffered = new AtomicLong();

    PairingRelay(RegistryStore store, Clock clock) {
        this(store, clock, DEFAULT_BUFFERED_BYTES);
    }

    PairingRelay(RegistryStore store, Clock clock, long maxBuffered) {
        this.store = store;
        this.clock = clock;
        this.maxBuffered = maxBuffered;
    }

    private static final class Channel {
        final String opener;
        final byte[] closeHash;
        long bytes;
        final Map<String, List<String>> messages = Map.of(PairingSeal.TO_BOX, new ArrayList<>(),
                PairingSeal.TO_PHONE, new ArrayList<>());
        Instant boxSeen;
        Instant lastUsed;
        boolean closed;

        Channel(String opener, byte[] closeHash, Instant now) {
            this.opener = opener;
            this.closeHash = closeHash;
            this.boxSeen = now;
            this.lastUsed = now;
        }
    }

    /** The box at {@code client} opens its channel (again, after a restart: the same code gives the same hash). */
    Registry.Answer open(String channel, String closeHashBase64, String client) throws SQLException {
        byte[] closeHash;
        try {
            closeHash = Base64.getDecoder().decode(closeHashBase64 == null ? "" : closeHashBase64);
        } catch (IllegalArgumentException e) {
            closeHash = new byte[0];
        }
        if (closeHash.length != 32) {
            return Registry.Answer.error(400, "closeHash must be the SHA-256 of the channel's close token, base64");
        }
        if (store.pairingUsed(channel)) {
            return used();
        }
        Instant now = clock.instant();
        synchronized (channels) {
            forgetIdle(now);
            Channel c = channels.get(channel);
            if (c != null && !MessageDigest.isEqual(c.closeHash, closeHash)) {
                return Registry.Answer.error(409, "this channel is open with another close token");
            }
            if (c == null) {
                if (channels.size() >= MAX_CHANNELS) {
                    return Registry.Answer.error(503, "the registry has too many pairings in progress; try again later");
                }
                if (channels.values().stream().filter(o -> o.opener.equals(client)).count() >= MAX_CHANNELS_PER_CLIENT) {
                    return Registry.Answer.error(429, "this address has " + MAX_CHANNELS_PER_CLIENT + " pairings in progress"
                            + " already; try again once one is done or half an hour has passed");
                }
                channels.put(channel, new Channel(client, closeHash, now));
            } else {
                c.boxSeen = now;
            }
        }
        return new Registry.Answer(200, Map.of("channel", channel));
    }

    /** A message into the channel: from the phone to the box, or from the box to the phone. */
    Registry.Answer post(String channel, String direction, String message) throws SQLException {
        if (message.length() > MAX_MESSAGE || !MESSAGE.matcher(message).matches()) {
            return Registry.Answer.error(400, "a pairing message is a sealed v1 message of at most " + MAX_MESSAGE + " bytes");
        }
        Channel c = find(channel);
        if (c == null) {
            return store.pairingUsed(channel) ? used() : unknown();
        }
        Instant now = clock.instant();
        synchronized (c) {
            if (c.closed) {
                return used();
            }
            if (direction.equals(PairingSeal.TO_BOX) && Duration.between(c.boxSeen, now).compareTo(BOX_GONE) > 0) {
                return Registry.Answer.error(503, "Your box is not answering. Check that it is switched on and connected"
                        + " to the internet, then try again.");
            }
            List<String> list = c.messages.get(direction);
            if (list.size() >= MAX_PER_DIRECTION || c.bytes + message.length() > MAX_CHANNEL_BYTES) {
                return Registry.Answer.error(429, "this pairing has exchanged too many messages; start again with"
                        + " hearth pair on the box");
            }
            if (buffered.addAndGet(message.length()) > maxBuffered) {
                buffered.addAndGet(-message.length());
                return Registry.Answer.error(503, "the registry is carrying too many pairing messages just now; try again"
                        + " in a few minutes");
            }
            c.bytes += message.length();
            list.add(message);
            c.lastUsed = now;
            c.notifyAll();
            return new Registry.Answer(202, Map.of("index", list.size()));
        }
    }

    /** The messages after {@code after} in {@code direction}, waiting up to {@code wait} for one. */
    Registry.Answer poll(String channel, String direction, int after, Duration wait) throws SQLException, InterruptedException {
        Channel c = find(channel);
        if (c == null) {
            return store.pairingUsed(channel) ? used() : unknown();
        }
        boolean mayWait = waiting.tryAcquire();
        try {
            synchronized (c) {
                long deadline = System.nanoTime() + (mayWait ? Math.min(wait.toNanos(), LONGEST_WAIT.toNanos()) : 0);
                List<String> list = c.messages.get(direction);
                while (list.size() <= after && !c.closed) {
                    if (direction.equals(PairingSeal.TO_BOX)) {
                        c.boxSeen = clock.instant();
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    c.wait(Math.max(1, left / 1_000_000));
                }
                if (direction.equals(PairingSeal.TO_BOX)) {
                    c.boxSeen = clock.instant();
                }
                Map<String, Object> body = new LinkedHashMap<>();
                // A copy: the answer is written out after the lock is let go, while a post may add to the list.
                body.put("messages", List.copyOf(list.subList(Math.min(Math.max(after, 0), list.size()), list.size())));
                body.put("next", list.size());
                body.put("closed", c.closed);
                return new Registry.Answer(200, body);
            }
        } finally {
            if (mayWait) {
                waiting.release();
            }
        }
    }

    /** The box is paired: the channel never opens again. Its last messages stay readable a while, for the phone. */
    Registry.Answer close(String channel, String tokenBase64) throws Exception {
        Channel c = find(channel);
        byte[] token;
        try {
            token = Base64.getDecoder().decode(tokenBase64 == null ? "" : tokenBase64);
        } catch (IllegalArgumentException e) {
            token = new byte[0];
        }
        if (c == null) {
            return store.pairingUsed(channel) ? new Registry.Answer(200, Map.of("closed", true)) : unknown();
        }
        if (!MessageDigest.isEqual(c.closeHash, MessageDigest.getInstance("SHA-256").digest(token))) {
            return Registry.Answer.error(403, "that is not this channel's close token");
        }
        store.usePairing(channel, clock.instant());
        synchronized (c) {
            c.closed = true;
            c.lastUsed = clock.instant();
            c.notifyAll();
        }
        return new Registry.Answer(200, Map.of("closed", true));
    }

    private Channel find(String channel) {
        synchronized (channels) {
            return channels.get(channel);
        }
    }

    private void forgetIdle(Instant now) {
        channels.values().removeIf(c -> {
            synchronized (c) {
                boolean forgotten = Duration.between(c.closed ? c.lastUsed : c.boxSeen, now)
                        .compareTo(c.closed ? Duration.ofMinutes(10) : FORGOTTEN) > 0;
                if (forgotten) {
                    buffered.addAndGet(-c.bytes);
                }
                return forgotten;
            }
        });
    }

    /** Bytes all channels' messages hold now. */
    long buffered() {
        return buffered.get();
    }

    private static Registry.Answer unknown() {
        return Registry.Answer.error(404, "No box is waiting for this pairing code. Check the code on the card (or"
                + " what hearth pair shows), and that the box is switched on and connected to the internet.");
    }

    private static Registry.Answer used() {
        return Registry.Answer.error(410, "This pairing code has already been used: its box is paired. To pair it again,"
                + " make a new code on the box (hearth pair --new).");
    }
}
