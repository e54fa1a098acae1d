package org.hearth.registry.protocol;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * One direction of a pairing channel: messages sealed with AES-256-GCM under that direction's key,
 * each bound (as associated data) to the channel, the direction and its sequence number. The relay
 * carries them as text, {@code v1.SEQ.NONCE.CIPHERTEXT} (base64url), and can read none of them; a
 * message it altered, made up, replayed, reordered or turned back fails {@link #open}.
 */
public final class PairingSeal {

    public static final String TO_BOX = "to-box";
    public static final String TO_PHONE = "to-phone";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;
    private final String channel;
    private final String direction;

    PairingSeal(byte[] key, String channel, String direction) {
        this.key = new SecretKeySpec(key, "AES");
        this.channel = channel;
        this.direction = direction;
    }

    public String seal(long seq, String plaintext) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(associated(seq));
            byte[] sealed = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
            return "v1." + seq + "." + b64.encodeToString(nonce) + "." + b64.encodeToString(sealed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is missing from this Java", e);
        }
    }

    /**
     * The plaintext of {@code message}, which must be this direction's message number {@code expectedSeq}.
     *
     * @throws TamperedException when it was not sealed with this key for this place in this channel
     */
    public String open(long expectedSeq, String message) throws TamperedException {
        String[] parts = message.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("v1") || !parts[1].equals(Long.toString(expectedSeq))) {
            throw new TamperedException("message " + expectedSeq + " " + direction + " is not the one expected there");
        }
        try {
            Base64.Decoder b64 = Base64.getUrlDecoder();
            byte[] nonce = b64.decode(parts[2]);
            if (nonce.length != NONCE_BYTES) {
                throw new TamperedException("message " + expectedSeq + " " + direction + " has a bad nonce");
            }
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(associated(expectedSeq));
            return new String(c.doFinal(b64.decode(parts[3])), StandardCharsets.UTF_8);
        } catch (AEADBadTagException | IllegalArgumentException e) {
            throw new TamperedException("message " + expectedSeq + " " + direction + " failed authentication");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is missing from this Java", e);
        }
    }

    private byte[] associated(long seq) {
        return (PairingKeys.SALT + "\n" + channel + "\n" + direction + "\n" + seq).getBytes(StandardCharsets.UTF_8);
    }

    /** A relayed message that its sender did not seal for this place: altered, made up, replayed or reordered. */
    public static final class TamperedException extends Exception {
        public TamperedException(String message) {
            super(message);
        }
    }
}
