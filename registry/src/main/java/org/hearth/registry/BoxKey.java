package org.hearth.registry;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A box's public key (Ed25519, made on the box at pairing; the registry never sees its private
 * half) and what it signs. A box is known by the key's hash, so the id names exactly one key.
 * What a box signs is {@link org.hearth.registry.protocol.SignedRequest#text}: a signature cannot be
 * moved to another registry, request, path or body.
 */
final class BoxKey {

    private final PublicKey key;
    private final String encoded;

    private BoxKey(PublicKey key, String encoded) {
        this.key = key;
        this.encoded = encoded;
    }

    /** The key from its X.509 SubjectPublicKeyInfo, base64; IllegalArgumentException if it is not an Ed25519 key. */
    static BoxKey parse(String base64) {
        try {
            byte[] der = Base64.getDecoder().decode(base64);
            PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
            return new BoxKey(key, Base64.getEncoder().encodeToString(key.getEncoded()));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException("publicKey is not an Ed25519 public key (X.509, base64)");
        }
    }

    String encoded() {
        return encoded;
    }

    /** The box's id: the first 16 bytes of the key's SHA-256, in hex. */
    String id() {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    boolean verifies(byte[] text, String signatureBase64) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(text);
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return false;
        }
    }
}
