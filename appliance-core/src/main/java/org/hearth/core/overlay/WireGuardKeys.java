package org.hearth.core.overlay;

import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;

import java.security.SecureRandom;
import java.util.Base64;

/** WireGuard's keys, in the base64 form wg and the phone apps read: X25519 pairs and 32-byte preshared keys. */
final class WireGuardKeys {

    private static final SecureRandom RANDOM = new SecureRandom();

    private WireGuardKeys() {
    }

    static String newPrivateKey() {
        return Base64.getEncoder().encodeToString(new X25519PrivateKeyParameters(RANDOM).getEncoded());
    }

    static String publicKeyOf(String privateKey) {
        byte[] raw = decode(privateKey, "private key");
        return Base64.getEncoder().encodeToString(new X25519PrivateKeyParameters(raw, 0).generatePublicKey().getEncoded());
    }

    /** A symmetric key mixed into the handshake: keeps recorded traffic safe should X25519 ever fall. */
    static String newPresharedKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    static byte[] decode(String key, String what) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(key.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the WireGuard " + what + " is not base64", e);
        }
        if (raw.length != 32) {
            throw new IllegalArgumentException("the WireGuard " + what + " is " + raw.length + " bytes, not 32");
        }
        return raw;
    }
}
