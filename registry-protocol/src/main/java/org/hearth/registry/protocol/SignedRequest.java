package org.hearth.registry.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

/**
 * How a box signs a request to its registry with its Ed25519 key: the registry's zone, the method,
 * the path, the time (milliseconds) and the SHA-256 of the body, a line each, so a signature fits
 * one request to one registry only. The time travels in {@link #SIGNED}, the signature in {@link #SIGNATURE}.
 */
public final class SignedRequest {

    public static final String SIGNED = "Hearth-Signed";
    public static final String SIGNATURE = "Hearth-Signature";

    private SignedRequest() {
    }

    public static byte[] text(String zone, String method, String path, long signedMillis, byte[] body) {
        try {
            String digest = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(body));
            return (zone + "\n" + method + "\n" + path + "\n" + signedMillis + "\n" + digest).getBytes(StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The base64 signature of {@link #text}. */
    public static String sign(PrivateKey key, String zone, String method, String path, long signedMillis, byte[] body) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(text(zone, method, path, signedMillis, body));
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is missing from this Java", e);
        }
    }
}
