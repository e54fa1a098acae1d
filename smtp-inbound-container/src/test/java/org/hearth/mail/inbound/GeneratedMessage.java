package org.hearth.mail.inbound;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A large, valid RFC 5322 message made up line by line as it is read, the same every time, so a
 * test can send tens of megabytes and check what arrived by digest without holding it. Lines are
 * 78 characters plus CRLF, as in base64 bodies, and some start with '.' or '..'. Read it as the
 * message itself, or {@linkplain #onTheWire as an SMTP client sends it} (every leading dot doubled).
 */
final class GeneratedMessage extends InputStream {

    private static final byte[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);

    private final int lines;
    private final boolean stuffed;
    private final byte[] line = new byte[81];
    private byte[] header;
    private int lineNumber;
    private int pos;
    private int end;
    private long random = 0x9E3779B97F4A7C15L;

    /** At least {@code size} bytes (whole lines), starting with {@code subject}'s header block. */
    GeneratedMessage(String subject, long size) {
        this(subject, size, false);
    }

    private GeneratedMessage(String subject, long size, boolean stuffed) {
        this.stuffed = stuffed;
        header = ("From: alice@sender.test\r\nTo: bob@hearth.test\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + subject.hashCode() + "." + size + "@sender.test>\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        lines = (int) Math.max(0, (size - header.length + 79) / 80);
    }

    /** The same message dot-stuffed for DATA (RFC 5321 4.5.2), without the final dot line. */
    static GeneratedMessage onTheWire(String subject, long size) {
        return new GeneratedMessage(subject, size, true);
    }

    /** The SHA-256 (hex) and length of the message {@code new GeneratedMessage(subject, size)} produces. */
    static String sha256(byte[] prefix, String subject, long size) {
        try (DigestInputStream in = new DigestInputStream(new GeneratedMessage(subject, size), MessageDigest.getInstance("SHA-256"))) {
            in.getMessageDigest().update(prefix);
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(in.getMessageDigest().digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int read() {
        if (!fill()) {
            return -1;
        }
        return (header != null ? header : line)[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, end - pos);
        System.arraycopy(header != null ? header : line, pos, b, off, n);
        pos += n;
        return n;
    }

    private boolean fill() {
        if (header != null) {
            if (pos < header.length) {
                end = header.length;
                return true;
            }
            header = null;
            pos = 0;
            end = 0;
        }
        if (pos < end) {
            return true;
        }
        if (lineNumber == lines) {
            return false;
        }
        lineNumber++;
        // Content is 78 characters a line; the stuffing dot comes on top.
        int stuffing = stuffed && lineNumber % 50 == 0 ? 1 : 0;
        int i = 0;
        if (stuffing == 1) {
            line[i++] = '.';
        }
        if (lineNumber % 50 == 0) {
            line[i++] = '.';
        }
        if (lineNumber % 500 == 0) {
            line[i++] = '.';
        }
        while (i < 78 + stuffing) {
            random ^= random << 13;
            random ^= random >>> 7;
            random ^= random << 17;
            line[i++] = ALPHABET[(int) (random >>> 58)];
        }
        line[i++] = '\r';
        line[i++] = '\n';
        pos = 0;
        end = i;
        return true;
    }
}
