package org.hearth.mail.outbound.admin;

import org.hearth.mail.outbound.queue.Envelope;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class QueueStatusTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    private static Envelope queued(String id, long secondsAgo, Envelope.Recipient... recipients) {
        return new Envelope(id, "alice@a.test", NOW.minusSeconds(secondsAgo), 1, NOW, false, List.of(recipients));
    }

    @Test
    void depthOldestAndTheNewestReasonPerDestination() {
        String line = QueueStatus.line(List.of(
                queued("a", 3600, new Envelope.Recipient("x@b.test", Envelope.State.PENDING, "421 4.7.0 old reason"),
                        new Envelope.Recipient("y@c.test", Envelope.State.DELIVERED, "250 ok")),
                queued("b", 60, new Envelope.Recipient("z@B.test", Envelope.State.PENDING, "451 4.3.0 newer reason"),
                        new Envelope.Recipient("w@d.test", Envelope.State.PENDING, ""))), Map.of("port25", "works"), NOW);

        assertThat(line).isEqualTo("queued=2 oldest=60m port25=works to.b.test=451%204.3.0%20newer%20reason");
    }

    @Test
    void anEmptyQueueSaysSo() {
        assertThat(QueueStatus.line(List.of(), Map.of(), NOW)).isEqualTo("queued=0");
    }
}
