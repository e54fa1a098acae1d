package org.hearth.mail.inbound;

import org.apache.james.core.MaybeSender;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChunkedMailEnvelopeTest {

    @Test
    void readsBackExactlyWhatWasWrittenAcrossChunkBoundaries() throws IOException {
        byte[] message = new byte[3 * ChunkedMailEnvelope.CHUNK_BYTES + 17];
        new Random(7).nextBytes(message);
        ChunkedMailEnvelope envelope = new ChunkedMailEnvelope(MaybeSender.nullSender(), List.of(), Long.MAX_VALUE);
        OutputStream out = envelope.getMessageOutputStream();
        // Odd-sized writes, so they straddle chunk ends, and one single byte.
        out.write(message[0]);
        for (int off = 1; off < message.length; off += 1000) {
            out.write(message, off, Math.min(1000, message.length - off));
        }
        assertThat(envelope.getSize()).isEqualTo(message.length);
        try (InputStream in = envelope.getMessageInputStream()) {
            assertThat(in.read()).isEqualTo(message[0] & 0xff);
            assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(message, 1, message.length));
        }
        // A second read sees the same message.
        assertThat(envelope.getMessageInputStream().readAllBytes()).isEqualTo(message);
    }

    @Test
    void aMessageOverCapacityIsDroppedAndCanNeverBeReadCutShort() throws IOException {
        ChunkedMailEnvelope envelope = new ChunkedMailEnvelope(MaybeSender.nullSender(), List.of(), 100);
        OutputStream out = envelope.getMessageOutputStream();
        out.write(new byte[60]);
        out.write(new byte[60]);
        out.write(new byte[10]);
        assertThatThrownBy(envelope::getMessageInputStream).isInstanceOf(IOException.class);
    }

    @Test
    void aDiscardedMessageCannotBeRead() throws IOException {
        ChunkedMailEnvelope envelope = new ChunkedMailEnvelope(MaybeSender.nullSender(), List.of(), Long.MAX_VALUE);
        envelope.getMessageOutputStream().write(new byte[10]);
        envelope.discard();
        assertThatThrownBy(envelope::getMessageInputStream).isInstanceOf(IOException.class);
    }
}
