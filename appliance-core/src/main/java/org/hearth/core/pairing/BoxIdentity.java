package org.hearth.core.pairing;

import org.hearth.core.OwnerOnlyFile;
import org.hearth.registry.protocol.SignedRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The box's Ed25519 key, made the first time the box needs it and kept owner-only in the state
 * folder: the registry knows the box by its public half, and takes changes to the box's name and
 * records only when signed with it.
 */
public final class BoxIdentity {

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private BoxIdentity(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** The box's key is gone though the registry knows the box by it. */
    public static final class MissingKey extends IOException {
        MissingKey(String message) {
            super(message);
        }
    }

    /**
     * The key in {@code dir} (box-key.pk8 and box-key.pub), made there if missing — unless the box
     * has claimed {@code claimed} already: the registry takes changes to that name only when signed
     * with the key it was claimed with, so a new one would change nothing and hide the loss.
     */
    public static synchronized BoxIdentity loadOrCreate(Path dir, Optional<String> claimed) throws IOException {
        Path secret = dir.resolve("box-key.pk8");
        Path open = dir.resolve("box-key.pub");
        try {
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            if (present(dir)) {
                return new BoxIdentity(factory.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(secret))),
                        factory.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(open))));
            }
            if (claimed.isPresent()) {
                throw new MissingKey(missing(dir, claimed.get()));
            }
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            Files.createDirectories(dir);
            Files.write(open, pair.getPublic().getEncoded());
            // The private half last and whole: a crash leaves no half-written key behind.
            OwnerOnlyFile.write(secret, pair.getPrivate().getEncoded());
            return new BoxIdentity(pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IOException("the box key in " + dir + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Whether both halves of the key are in {@code dir}. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve("box-key.pk8")) && Files.isRegularFile(dir.resolve("box-key.pub"));
    }

    /** What the owner is told when the key of a box that claimed {@code domain} is gone. */
    public static String missing(Path dir, String domain) {
        return "the box's key (" + dir.resolve("box-key.pk8") + ") is missing, and the registry takes changes to " + domain
                + " only when signed with it: restore " + dir + " from a backup of the state folder (the box's address,"
                + " records and certificates are not kept current until then)";
    }

    /** X.509 SubjectPublicKeyInfo, base64: how the registry is told the key. */
    public String publicKey() {
        return Base64.getEncoder().encodeToString(publicKey.getEncoded());
    }

    /** The registry's name for the box: the first 16 bytes of the public key's SHA-256, in hex. */
    public String id() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(publicKey.getEncoded()), 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String sign(String zone, String method, String path, long millis, byte[] body) {
        return SignedRequest.sign(privateKey, zone, method, path, millis, body);
    }
}
