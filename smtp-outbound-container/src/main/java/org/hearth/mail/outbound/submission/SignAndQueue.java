package org.hearth.mail.outbound.submission;

import org.hearth.mail.outbound.dkim.DkimKey;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.dkim.DkimSigner;
import org.hearth.mail.outbound.queue.MailQueue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;

/**
 * What submission does with an accepted message: makes every line end in CRLF, signs it with its
 * sender's domain's DKIM keys (made on the domain's first message if it has none) and commits it to
 * the queue; the id comes back once the queue has it on disk.
 */
public final class SignAndQueue implements SubmissionServer.Acceptor {

    private final DkimKeys keys;
    private final MailQueue queue;
    private final InstantSource clock;

    public SignAndQueue(DkimKeys keys, MailQueue queue, InstantSource clock) {
        this.keys = keys;
        this.queue = queue;
        this.clock = clock;
    }

    @Override
    public String accept(String sender, List<String> recipients, InputStream message) throws IOException {
        byte[] bytes = crlf(message.readAllBytes());
        String domain = sender.substring(sender.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
        // One check and make: two first messages of a new domain at once must not make two key pairs.
        List<DkimKey> signing = keys.signingKeys(domain, LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
        String signatures = DkimSigner.sign(bytes, signing, clock.instant());
        return queue.enqueue(sender, recipients, new SequenceInputStream(
                new ByteArrayInputStream(signatures.getBytes(StandardCharsets.US_ASCII)), new ByteArrayInputStream(bytes)),
                clock.instant());
    }

    /**
     * Every bare LF or CR as CRLF, as Postfix's cleanup does for what it relays. Some clients send
     * LF-only lines (Python's smtplib passes bytes as given); relayed as they are, a receiver reads the
     * whole message as one overlong line and refuses it (500 5.5.x "line too long"), and a receiver
     * that splits lines differently from the signer breaks the DKIM signature.
     */
    static byte[] crlf(byte[] in) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(in.length + in.length / 40);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == '\r') {
                out.write('\r');
                out.write('\n');
                if (i + 1 < in.length && in[i + 1] == '\n') {
                    i++;
                }
            } else if (b == '\n') {
                out.write('\r');
                out.write('\n');
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }
}
