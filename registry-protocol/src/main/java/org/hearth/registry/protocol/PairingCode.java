package org.hearth.registry.protocol;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;

/**
 * A box's pairing secret: 160 random bits, shown as 32 characters of RFC 4648 base32 in groups of
 * four (no 0/1/8/9 to confuse with O/I/B/g when typed off a card). Only the box and whoever holds
 * the card or the QR code know it; the registry sees only what {@link PairingKeys} derives from it.
 */
public final class PairingCode {

    static final int BYTES = 20;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private final byte[] secret;

    private PairingCode(byte[] secret) {
        this.secret = secret;
    }

    public static PairingCode random() {
        byte[] b = new byte[BYTES];
        new SecureRandom().nextBytes(b);
        return new PairingCode(b);
    }

    /** Parses what an owner typed or a QR carried: case, spaces and dashes do not matter. */
    public static PairingCode parse(String text) {
        String clean = text.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
        if (clean.length() != BYTES * 8 / 5 || !clean.chars().allMatch(c -> ALPHABET.indexOf(c) >= 0)) {
            throw new IllegalArgumentException("a pairing code is 32 letters A-Z and digits 2-7 (dashes and spaces"
                    + " do not matter); this one is not");
        }
        byte[] out = new byte[BYTES];
        long buffer = 0;
        int bits = 0;
        int i = 0;
        for (char c : clean.toCharArray()) {
            buffer = (buffer << 5) | ALPHABET.indexOf(c);
            bits += 5;
            if (bits >= 8) {
                out[i++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        return new PairingCode(out);
    }

    /** "ABCD-EFGH-..." : eight groups of four. */
    public String format() {
        StringBuilder out = new StringBuilder();
        long buffer = 0;
        int bits = 0;
        for (byte b : secret) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                if (out.length() % 5 == 4) {
                    out.append('-');
                }
                out.append(ALPHABET.charAt((int) (buffer >>> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        return out.toString();
    }

    byte[] secret() {
        return secret.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PairingCode other && Arrays.equals(secret, other.secret);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(secret);
    }

    @Override
    public String toString() {
        return "PairingCode[hidden]";
    }
}
