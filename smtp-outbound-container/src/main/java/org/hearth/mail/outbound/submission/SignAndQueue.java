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
 * What submission does with an accepted message: signs it with its sender's domain's DKIM keys (made
 * on the domain's first message if it has none) and commits it to the queue; the id comes back
 * once the queue has it on disk.
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
        byte[] bytes = message.readAllBytes();
        String domain = sender.substring(sender.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
        List<DkimKey> active = keys.active(domain);
        if (active.isEmpty()) {
            active = keys.rotate(domain, LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
        }
        String signatures = DkimSigner.sign(bytes, active, clock.instant());
        return queue.enqueue(sender, recipients, new SequenceInputStream(
                new ByteArrayInputStream(signatures.getBytes(StandardCharsets.US_ASCII)), new ByteArrayInputStream(bytes)),
                clock.instant());
    }
}
