package org.hearth.mail.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Puts the store's verdicts into a message: the spam verdict as {@code X-Spam-*} fields and who
 * sent it as an {@code Authentication-Results} field (RFC 8601), after removing any such fields
 * the sender wrote: every {@code X-Spam-*}, and each Authentication-Results that claims this
 * server's authserv-id (§5: a reader trusts only its own server's). The body is left byte for byte
 * as it came.
 */
final class VerdictHeaders {

    private VerdictHeaders() {
    }

    /** @param authservId this server's name in Authentication-Results; fields claiming it are the sender's forgeries */
    static byte[] apply(byte[] message, String authservId, String... headers) {
        int end = headerEnd(message);
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 512);
        for (String h : headers) {
            out.writeBytes((h + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        int fieldStart = 0;
        while (fieldStart < end) {
            // A field is its first line and every continuation line (one starting with a space or tab).
            int fieldEnd = lineEnd(message, fieldStart, end);
            while (fieldEnd < end && (message[fieldEnd] == ' ' || message[fieldEnd] == '\t')) {
                fieldEnd = lineEnd(message, fieldEnd, end);
            }
            String field = new String(message, fieldStart, fieldEnd - fieldStart, StandardCharsets.ISO_8859_1);
            if (!forged(field, authservId)) {
                out.write(message, fieldStart, fieldEnd - fieldStart);
            }
            fieldStart = fieldEnd;
        }
        out.write(message, end, message.length - end);
        return out.toByteArray();
    }

    private static boolean forged(String field, String authservId) {
        String lower = field.toLowerCase(Locale.ROOT);
        if (lower.startsWith("x-spam-")) {
            return true;
        }
        if (!lower.startsWith("authentication-results:")) {
            return false;
        }
        // The authserv-id is the first token of the value, before an optional version and the first ";".
        String value = lower.substring("authentication-results:".length()).replaceAll("\\([^)]*\\)", " ").strip();
        String id = value.split("[\\s;]", 2)[0];
        return id.equals(authservId.toLowerCase(Locale.ROOT));
    }

    private static int lineEnd(byte[] m, int from, int end) {
        int i = from;
        while (i < end && m[i] != '\n') {
            i++;
        }
        return Math.min(i + 1, end);
    }

    /** Index just past the header block: after the first empty line, or the whole message if none. */
    static int headerEnd(byte[] m) {
        for (int i = 0; i < m.length; i++) {
            if (m[i] == '\n') {
                if (i + 1 < m.length && m[i + 1] == '\n') {
                    return i + 1;
                }
                if (i + 2 < m.length && m[i + 1] == '\r' && m[i + 2] == '\n') {
                    return i + 1;
                }
            }
        }
        return m.length;
    }
}
