package org.hearth.registry.protocol;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * What a pairing code gives its two ends, each derived with HKDF-SHA-256 (RFC 5869) under its own
 * label, so knowing one tells nothing of the others: the relay channel's name (all the registry
 * learns), a key for each direction (AES-256-GCM, so neither end's messages can be turned back at
 * it), and the token that closes the channel for good once the box is paired. The owner app's page
 * derives the same with WebCrypto (registry-protocol/src/main/resources/owner-app/pairing.js).
 */
public final class PairingKeys {

    public static final String SALT = "hearth pairing v1";
    private final String channel;
    private final byte[] toBox;
    private final byte[] toPhone;
    private final byte[] closeToken;

    private PairingKeys(byte[] secret) {
        this.channel = HexFormat.of().formatHex(derive(secret, "channel", 16));
        this.toBox = derive(secret, "phone to box", 32);
        this.toPhone = derive(secret, "box to phone", 32);
        this.closeToken = derive(secret, "close", 32);
    }

    public static PairingKeys of(PairingCode code) {
        return new PairingKeys(code.secret());
    }

    /** The relay channel's name: 32 hex digits. */
    public String channel() {
        return channel;
    }

    public PairingSeal toBox() {
        return new PairingSeal(toBox, channel, PairingSeal.TO_BOX);
    }

    public PairingSeal toPhone() {
        return new PairingSeal(toPhone, channel, PairingSeal.TO_PHONE);
    }

    /** Shown to the registry only when the box closes the channel; the registry keeps its hash from the opening. */
    public byte[] closeToken() {
        return closeToken.clone();
    }

    private static byte[] derive(byte[] secret, String label, int length) {
        return hkdf(secret, SALT.getBytes(StandardCharsets.UTF_8), label.getBytes(StandardCharsets.UTF_8), length);
    }

    static byte[] hkdf(byte[] secret, byte[] salt, byte[] info, int length) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(secret, salt, info));
        byte[] out = new byte[length];
        hkdf.generateBytes(out, 0, length);
        return out;
    }
}
