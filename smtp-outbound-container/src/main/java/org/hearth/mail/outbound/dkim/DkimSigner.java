package org.hearth.mail.outbound.dkim;

import org.apache.james.jdkim.DKIMSigner;
import org.apache.james.jdkim.exceptions.FailException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs a message with each of its domain's active keys (RSA and Ed25519: RFC 8463 asks signers to
 * add an RSA signature beside an Ed25519 one, for verifiers that know only RSA). Relaxed header and
 * body canonicalisation, which survives the whitespace and line-folding changes relays make.
 */
public final class DkimSigner {

    /**
     * Signed when present; every name is listed once more than a message may carry it ("oversigned",
     * RFC 6376 §8.15), so a relay or attacker that adds a second From, Subject or the like breaks the
     * signature instead of riding on it.
     */
    static final List<String> SIGNED_HEADERS = List.of("from", "reply-to", "subject", "date", "to", "cc",
            "message-id", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding",
            "list-unsubscribe", "list-unsubscribe-post");

    static {
        Ed25519Sha256.register();
    }

    private DkimSigner() {
    }

    /**
     * The DKIM-Signature header fields to put on top of {@code message} (CRLF line ends, headers then
     * body), one per key, each ending in CRLF; the RSA one first.
     *
     * @throws IOException when the message cannot be parsed or a key refuses to sign
     */
    public static String sign(byte[] message, List<DkimKey> keys, Instant now) throws IOException {
        List<String> fields = new ArrayList<>();
        for (DkimKey key : keys) {
            fields.add(signOne(message, key, now));
        }
        return String.join("", fields);
    }

    private static String signOne(byte[] message, DkimKey key, Instant now) throws IOException {
        String h = String.join(":", SIGNED_HEADERS.stream().flatMap(n -> java.util.stream.Stream.of(n, n)).toList());
        String template = "v=1; a=" + key.algorithm().signatureName() + "; c=relaxed/relaxed; d=" + key.domain()
                + "; s=" + key.selector() + "; t=" + now.getEpochSecond() + "; h=" + h + "; bh=; b=;";
        try {
            String field = new DKIMSigner(template, key.privateKey()).sign(new ByteArrayInputStream(message));
            return fold(field) + "\r\n";
        } catch (FailException e) {
            throw new IOException("DKIM signing with " + key.dnsName() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * jDKIM returns the field on one line, longer than mail lines should be (78, RFC 5322 §2.1.1).
     * It is folded only where that changes nothing a verifier hashes: at the space after a tag's
     * semicolon (relaxed canonicalisation turns the fold back into that one space) and inside the
     * b= value, whose whitespace verifiers drop (RFC 6376 §3.5). h= stays whole (under 998 octets).
     */
    static String fold(String field) {
        StringBuilder out = new StringBuilder();
        int lineLength = 0;
        String[] tags = field.split("(?<=;) ");
        for (int i = 0; i < tags.length; i++) {
            String tag = tags[i];
            if (i > 0) {
                if (lineLength + 1 + tag.length() > 76) {
                    out.append("\r\n\t");
                    lineLength = 1;
                } else {
                    out.append(' ');
                    lineLength++;
                }
            }
            if (tag.startsWith("b=")) {
                int room = Math.max(8, 76 - lineLength);
                while (tag.length() > room) {
                    out.append(tag, 0, room).append("\r\n\t");
                    tag = tag.substring(room);
                    lineLength = 1;
                    room = 72;
                }
            }
            out.append(tag);
            lineLength += tag.length();
        }
        return out.toString();
    }
}
