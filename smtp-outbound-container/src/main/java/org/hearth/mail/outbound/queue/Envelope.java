package org.hearth.mail.outbound.queue;

import java.time.Instant;
import java.util.List;

/**
 * What the queue knows of a message besides its bytes: who sent it, each recipient's state, and
 * when to try again. Rewritten as a whole, atomically, after every attempt.
 *
 * @param sender        the reverse path; empty for a bounce (which never gets a bounce itself)
 * @param delayNotified whether the sender was told the message is late
 */
public record Envelope(String id, String sender, Instant created, int attempts, Instant nextAttempt,
                       boolean delayNotified, List<Recipient> recipients) {

    public enum State { PENDING, DELIVERED, FAILED }

    /** @param lastReply the last server reply (or why there was none), for status, DSNs and the owner */
    public record Recipient(String address, State state, String lastReply) {
    }

    public List<Recipient> pending() {
        return recipients.stream().filter(r -> r.state() == State.PENDING).toList();
    }
}
