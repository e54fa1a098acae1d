package org.hearth.mail.outbound.dkim;

import org.apache.james.jdkim.DKIMSigner;
import org.apache.james.jdkim.api.BodyHasher;
import org.apache.james.jdkim.api.Headers;
import org.apache.james.jdkim.exceptions.FailException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs a message with each of its domain's active keys (RSA and Ed25519: RFC 8463 asks signers to
 * add an RSA signature beside an Ed25519 one, for verifiers that know only RSA). Relaxed header and
 * body canonicalisation, which survives the whitespace and line-folding changes relays make (simple
 * for a blank body, see {@link #bodyCanonicalization}).
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
        HeaderSection header = HeaderSection.of(message);
        String canonicalization = "relaxed/" + bodyCanonicalization(message, header);
        List<String> fields = new ArrayList<>();
        for (DkimKey key : keys) {
            fields.add(signOne(message, header, canonicalization, key, now));
        }
        return String.join("", fields);
    }

    private static String signOne(byte[] message, HeaderSection header, String canonicalization, DkimKey key, Instant now)
            throws IOException {
        String h = String.join(":", SIGNED_HEADERS.stream().flatMap(n -> java.util.stream.Stream.of(n, n)).toList());
        String template = "v=1; a=" + key.algorithm().signatureName() + "; c=" + canonicalization
                + "; d=" + key.domain()
                + "; s=" + key.selector() + "; t=" + now.getEpochSecond() + "; h=" + h + "; bh=; b=;";
        try {
            DKIMSigner signer = new DKIMSigner(template, key.privateKey());
            BodyHasher body = signer.newBodyHasher(signer.newSignatureRecordTemplate(template));
            try (OutputStream out = body.getOutputStream()) {
                out.write(message, header.bodyStart(), message.length - header.bodyStart());
            }
            return fold(signer.sign(header, body)) + "\r\n";
        } catch (FailException e) {
            throw new IOException("DKIM signing with " + key.dnsName() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Relaxed, except for a body that is empty or only blank lines: relaxed makes that an empty
     * string (RFC 6376 §3.4.4), but jDKIM hashes a CRLF for it, which no verifier accepts. Simple
     * canonicalisation hashes a CRLF there by the RFC too (§3.4.3).
     */
    private static String bodyCanonicalization(byte[] message, HeaderSection header) {
        for (int i = header.bodyStart(); i < message.length; i++) {
            byte b = message[i];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return "relaxed";
            }
        }
        return "simple";
    }

    /**
     * The message's header fields as jDKIM reads them: each field's own text, folding included,
     * without its last CRLF. jDKIM's own reader (mime4j) looked up its MIME service on the class
     * path once per header name in h=, 56 times a message: half of signing's cost besides RSA.
     * Text is read as UTF-8, as jDKIM turns it back into bytes (the runtime's charset is UTF-8).
     */
    record HeaderSection(List<String> all, int bodyStart) implements Headers {

        /** The fields before the first empty line; the body is what follows it (nothing, without one). */
        static HeaderSection of(byte[] message) {
            List<String> fields = new ArrayList<>();
            int start = 0;
            int at = 0;
            while (at < message.length) {
                int end = lineEnd(message, at);
                boolean empty = message[at] == '\r' && end - at == 2;
                boolean continuation = !empty && (message[at] == ' ' || message[at] == '\t');
                if (empty || !continuation) {
                    if (at > start) {
                        fields.add(new String(message, start, at - start - 2, StandardCharsets.UTF_8));
                    }
                    start = at;
                }
                if (empty) {
                    return new HeaderSection(List.copyOf(fields), end);
                }
                at = end;
            }
            if (at > start) {
                // No empty line: all of it is header, the body is empty.
                int cut = message[message.length - 1] == '\n' ? 2 : 0;
                fields.add(new String(message, start, at - start - cut, StandardCharsets.UTF_8));
            }
            return new HeaderSection(List.copyOf(fields), message.length);
        }

        /** Just past the CRLF that ends the line starting at {@code from} (the message ends it, without one). */
        private static int lineEnd(byte[] message, int from) {
            for (int i = from; i + 1 < message.length; i++) {
                if (message[i] == '\r' && message[i + 1] == '\n') {
                    return i + 2;
                }
            }
            return message.length;
        }

        @Override
        public List<String> getFields() {
            return all;
        }

        @Override
        public List<String> getFields(String name) {
            List<String> named = new ArrayList<>();
            for (String field : all) {
                int colon = field.indexOf(':');
                // Whitespace only before the colon (RFC 5322's obsolete syntax): " From:" is no From.
                if (colon > 0 && field.substring(0, colon).stripTrailing().equalsIgnoreCase(name)) {
                    named.add(field);
                }
            }
            return named;
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
