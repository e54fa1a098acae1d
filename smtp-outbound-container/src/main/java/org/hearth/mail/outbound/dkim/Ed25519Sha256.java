package org.hearth.mail.outbound.dkim;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;

import java.io.IOException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * DKIM's ed25519-sha256 (RFC 8463 §3) for the JCA: the data is hashed with SHA-256 and the 32-byte
 * digest is signed with PureEdDSA (Bouncy Castle's Ed25519; the JDK's verifies). jDKIM asks the JCA for "SHA256withED25519"
 * (the hash and key type of the a= tag), so registering this is all it needs to sign with Ed25519;
 * canonicalisation and the tags stay jDKIM's.
 */
final class Ed25519Sha256 extends Provider {

    static final String ALGORITHM = "SHA256withED25519";

    private Ed25519Sha256() {
        super("HearthDkimEd25519", "1", "DKIM ed25519-sha256: Ed25519 over the SHA-256 of the signed data (RFC 8463)");
        put("Signature." + ALGORITHM, Spi.class.getName());
    }

    /** Registers the algorithm once per process. */
    static synchronized void register() {
        if (Security.getProvider("HearthDkimEd25519") == null) {
            Security.addProvider(new Ed25519Sha256());
        }
    }

    public static final class Spi extends SignatureSpi {
        private static final Map<PrivateKey, Ed25519PrivateKeyParameters> BOUNCY_CASTLE_KEYS = new WeakHashMap<>();

        private final MessageDigest digest;
        private PrivateKey signingKey;
        private PublicKey verifyingKey;

        public Spi() throws NoSuchAlgorithmException {
            digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        protected void engineInitSign(PrivateKey key) throws InvalidKeyException {
            if (!"Ed25519".equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())) {
                throw new InvalidKeyException("an Ed25519 key is needed, not " + key.getAlgorithm());
            }
            signingKey = key;
            verifyingKey = null;
            digest.reset();
        }

        @Override
        protected void engineInitVerify(PublicKey key) throws InvalidKeyException {
            verifyingKey = key;
            signingKey = null;
            digest.reset();
        }

        @Override
        protected void engineUpdate(byte b) {
            digest.update(b);
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) {
            digest.update(b, off, len);
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            Ed25519Signer ed = new Ed25519Signer();
            ed.init(true, bouncyCastleKey(signingKey));
            byte[] hash = digest.digest();
            ed.update(hash, 0, hash.length);
            return ed.generateSignature();
        }

        /**
         * Bouncy Castle signs: the JDK's Ed25519 costs 1 ms a signature on the C1-only JIT the
         * container runs (its field arithmetic is never compiled by C2), Bouncy Castle's 0.06 ms
         * with the key's public half computed once.
         */
        private static Ed25519PrivateKeyParameters bouncyCastleKey(PrivateKey key) throws SignatureException {
            synchronized (BOUNCY_CASTLE_KEYS) {
                Ed25519PrivateKeyParameters known = BOUNCY_CASTLE_KEYS.get(key);
                if (known == null) {
                    try {
                        known = (Ed25519PrivateKeyParameters) PrivateKeyFactory.createKey(key.getEncoded());
                    } catch (IOException | ClassCastException e) {
                        throw new SignatureException("not an Ed25519 private key: " + e.getMessage(), e);
                    }
                    BOUNCY_CASTLE_KEYS.put(key, known);
                }
                return known;
            }
        }

        @Override
        protected boolean engineVerify(byte[] sig) throws SignatureException {
            try {
                Signature ed = Signature.getInstance("Ed25519");
                ed.initVerify(verifyingKey);
                ed.update(digest.digest());
                return ed.verify(sig);
            } catch (NoSuchAlgorithmException | InvalidKeyException e) {
                throw new SignatureException(e);
            }
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            throw new UnsupportedOperationException();
        }
    }
}
