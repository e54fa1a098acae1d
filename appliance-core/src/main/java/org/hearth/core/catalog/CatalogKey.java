package org.hearth.core.catalog;

import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;
import org.hearth.core.OwnerOnlyFile;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 keys of a catalog. A public key is written {@code ed25519:BASE64} (its 32 bytes), the form
 * pinned in appliance.yaml; a signing key is a PKCS#8 PEM file readable by its owner alone. Every
 * signature covers a purpose line before the signed bytes, so a signature made for one kind of
 * document (an index) can never be passed off as another (a key rollover).
 */
public final class CatalogKey {

    static final String PREFIX = "ed25519:";

    /** What a signature is for: the first line of the signed message. */
    enum Purpose {
        INDEX("hearth catalog index v1\n"),
        ROLLOVER("hearth catalog key rollover v1\n");

        private final byte[] line;

        Purpose(String line) {
            this.line = line.getBytes(StandardCharsets.US_ASCII);
        }
    }

    private CatalogKey() {
    }

    /** A public key that verifies a catalog's signatures. */
    public record Public(byte[] raw) {

        public Public {
            if (raw.length != Ed25519PublicKeyParameters.KEY_SIZE) {
                throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, not " + raw.length);
            }
            raw = raw.clone();
        }

        /** Reads {@code ed25519:BASE64}; the message says what is wrong with any other text. */
        public static Public parse(String text) {
            String t = text == null ? "" : text.strip();
            if (!t.startsWith(PREFIX)) {
                throw new IllegalArgumentException("a catalog key is written ed25519:BASE64, not \"" + t + "\"");
            }
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(t.substring(PREFIX.length()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("catalog key \"" + t + "\" is not valid base64");
            }
            return new Public(raw);
        }

        /** The first 16 hex digits of the key's SHA-256: short enough to read out, long enough to tell keys apart. */
        public String id() {
            return HexFormat.of().formatHex(sha256(raw), 0, 8);
        }

        public boolean verifies(Purpose purpose, byte[] message, byte[] signature) {
            if (signature.length != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
                return false;
            }
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, new Ed25519PublicKeyParameters(raw, 0));
            verifier.update(purpose.line, 0, purpose.line.length);
            verifier.update(message, 0, message.length);
            return verifier.verifySignature(signature);
        }

        @Override
        public String toString() {
            return PREFIX + Base64.getEncoder().encodeToString(raw);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Public p && Arrays.equals(raw, p.raw);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(raw);
        }
    }

    /** A key that signs: kept by whoever publishes the catalog, never on a box that only installs. */
    public record Signing(Ed25519PrivateKeyParameters key) {

        public static Signing generate() {
            Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
            generator.init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            AsymmetricCipherKeyPair pair = generator.generateKeyPair();
            return new Signing((Ed25519PrivateKeyParameters) pair.getPrivate());
        }

        public static Signing read(Path file) throws IOException {
            PemObject pem;
            try (PemReader reader = new PemReader(new StringReader(Files.readString(file)))) {
                pem = reader.readPemObject();
            }
            if (pem == null || !pem.getType().equals("PRIVATE KEY")) {
                throw new IOException(file + ": not a PEM private key (PKCS#8, as hearth catalog key new writes)");
            }
            AsymmetricKeyParameter key = PrivateKeyFactory.createKey(pem.getContent());
            if (!(key instanceof Ed25519PrivateKeyParameters ed)) {
                throw new IOException(file + ": not an Ed25519 key");
            }
            return new Signing(ed);
        }

        /** Writes the key readable by its owner alone, replacing nothing: a signing key is never overwritten. */
        public void write(Path file) throws IOException {
            if (Files.exists(file)) {
                throw new IOException(file + " exists; a catalog key is never overwritten");
            }
            StringWriter text = new StringWriter();
            try (PemWriter writer = new PemWriter(text)) {
                writer.writeObject(new PemObject("PRIVATE KEY", PrivateKeyInfoFactory.createPrivateKeyInfo(key).getEncoded()));
            }
            OwnerOnlyFile.write(file, text.toString());
        }

        public Public publicKey() {
            return new Public(key.generatePublicKey().getEncoded());
        }

        byte[] sign(Purpose purpose, byte[] message) {
            Ed25519Signer signer = new Ed25519Signer();
            signer.init(true, key);
            signer.update(purpose.line, 0, purpose.line.length);
            signer.update(message, 0, message.length);
            return signer.generateSignature();
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
