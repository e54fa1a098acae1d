package org.hearth.mail.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * What stays the same when a sender retries a message: its Message-ID and the bytes after the
 * header/body separator. The headers above differ per attempt (Received, X-Spam-*), so they are
 * not part of it.
 */
record MessageIdentity(Optional<String> messageId, String bodySha256) {

    static MessageIdentity of(byte[] message) {
        int bodyStart = VerdictHeaders.headerEnd(message);
        MessageDigest sha = sha256();
        sha.update(message, bodyStart, message.length - bodyStart);
        return new MessageIdentity(messageId(message, bodyStart), HexFormat.of().formatHex(sha.digest()));
    }

    /** The key a retried delivery is recognised by, or empty if the message has no Message-ID. */
    Optional<String> deliveryKey(String recipient) {
        return messageId.map(id -> digest(recipient.toLowerCase(Locale.ROOT) + "\n" + id + "\n" + bodySha256));
    }

    /** The key failures of this message to this recipient are counted by (a Message-ID is not needed). */
    String failureKey(String recipient) {
        return digest(recipient.toLowerCase(Locale.ROOT) + "\n" + bodySha256);
    }

    /** The first Message-ID header's value, unfolded and trimmed; empty if missing or blank. */
    private static Optional<String> messageId(byte[] m, int headerEnd) {
        String headers = new String(m, 0, headerEnd, StandardCharsets.ISO_8859_1);
        String[] lines = headers.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon < 0 || line.isEmpty() || line.charAt(0) == ' ' || line.charAt(0) == '\t'
                    || !line.substring(0, colon).strip().equalsIgnoreCase("Message-ID")) {
                continue;
            }
            StringBuilder value = new StringBuilder(line.substring(colon + 1));
            for (int j = i + 1; j < lines.length && !lines[j].isEmpty()
                    && (lines[j].charAt(0) == ' ' || lines[j].charAt(0) == '\t'); j++) {
                value.append(lines[j]);
            }
            String id = value.toString().strip();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        }
        return Optional.empty();
    }

    private static String digest(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
