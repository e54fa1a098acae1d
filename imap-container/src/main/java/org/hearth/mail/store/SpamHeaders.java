package org.hearth.mail.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Puts the scanner's verdict into a message as {@code X-Spam-*} headers, after removing any such
 * headers the sender wrote (a sender must not be able to claim a verdict). The body is left
 * byte for byte as it came.
 */
final class SpamHeaders {

    private SpamHeaders() {
    }

    static byte[] apply(byte[] message, String... headers) {
        int end = headerEnd(message);
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 256);
        for (String h : headers) {
            out.writeBytes((h + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        boolean dropping = false;
        int lineStart = 0;
        while (lineStart < end) {
            int lineEnd = lineStart;
            while (lineEnd < end && message[lineEnd] != '\n') {
                lineEnd++;
            }
            lineEnd = Math.min(lineEnd + 1, end);
            boolean continuation = message[lineStart] == ' ' || message[lineStart] == '\t';
            if (!continuation) {
                String start = new String(message, lineStart, Math.min(7, lineEnd - lineStart), StandardCharsets.ISO_8859_1);
                dropping = start.toLowerCase(Locale.ROOT).startsWith("x-spam-");
            }
            if (!dropping) {
                out.write(message, lineStart, lineEnd - lineStart);
            }
            lineStart = lineEnd;
        }
        out.write(message, end, message.length - end);
        return out.toByteArray();
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
