package org.hearth.tls;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Objects;

/**
 * The keys a server offers in its TLS handshakes: the box's certificate for the container's name
 * when the supervisor hands one over (a manifest's {@code certificate:}; {@value #CHAIN} and
 * {@value #KEY} in the secrets folder), else the self-signed identity. The supervisor replaces the
 * files when the certificate is renewed; the next handshake after that offers the new one, so
 * renewal restarts nothing and no open session notices.
 */
public final class ServerKeys extends X509ExtendedKeyManager {

    private static final Logger LOG = LoggerFactory.getLogger(ServerKeys.class);
    public static final String CHAIN = "tls-chain.pem";
    public static final String KEY = "tls-key.pem";
    /** How often a handshake looks at the files: a stat, at most this often, however busy the server. */
    private static final long LOOK_EVERY_NANOS = 2_000_000_000L;

    private final Path chainFile;
    private final Path keyFile;
    private final TlsIdentity selfSigned;
    private volatile Keys current;
    /** What was offered before a reload: a handshake that chose it just before still finds its key. */
    private volatile Keys previous;
    private volatile long lookedAt;

    /** A chain and its key, named by an alias that changes with them (a handshake asks for both by it). */
    private record Keys(String alias, X509Certificate[] chain, PrivateKey key, Stamp from) {
    }

    /** Enough of the chain file's attributes to tell, without reading it, that it was replaced. */
    private record Stamp(FileTime modified, long size, Object fileKey) {
    }

    private ServerKeys(Path chainFile, Path keyFile, TlsIdentity selfSigned) {
        this.chainFile = chainFile;
        this.keyFile = keyFile;
        this.selfSigned = selfSigned;
        this.current = load(null);
        this.lookedAt = System.nanoTime();
    }

    /** A server-side context (TLS 1.2 and 1.3) offering what {@code secrets} holds, else {@code selfSigned}. */
    public static SSLContext context(Path secrets, TlsIdentity selfSigned) {
        return context(secrets.resolve(CHAIN), secrets.resolve(KEY), selfSigned);
    }

    /** The same, for a chain and key kept under other names (the supervisor's own, in the state folder). */
    public static SSLContext context(Path chainFile, Path keyFile, TlsIdentity selfSigned) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new ServerKeys(chainFile, keyFile, selfSigned)}, null, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context", e);
        }
    }

    private Keys keys() {
        long now = System.nanoTime();
        if (now - lookedAt >= LOOK_EVERY_NANOS) {
            lookedAt = now;
            Keys before = current;
            Keys after = load(before);
            if (after != before) {
                previous = before;
                current = after;
                LOG.info("event=certificate-loaded subject=\"{}\" not_after={}", after.chain[0].getSubjectX500Principal(),
                        after.chain[0].getNotAfter().toInstant());
            }
        }
        return current;
    }

    /**
     * The keys the files hold now, {@code before} if they did not change, or the self-signed identity
     * when there are none. A chain or key that cannot be read (half replaced, not a match) keeps what
     * was offered before, and is looked at again next time.
     */
    private Keys load(Keys before) {
        Stamp stamp;
        try {
            BasicFileAttributes a = Files.readAttributes(chainFile, BasicFileAttributes.class);
            stamp = new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (IOException absent) {
            return before != null && before.from == null ? before : selfSigned();
        }
        if (before != null && stamp.equals(before.from)) {
            return before;
        }
        try {
            List<X509Certificate> chain;
            try (InputStream in = Files.newInputStream(chainFile)) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                        .map(X509Certificate.class::cast).toList();
            }
            PrivateKey key = readKey(keyFile);
            if (chain.isEmpty() || !pair(chain.get(0), key)) {
                throw new IOException(keyFile + " is not the key of the certificate in " + chainFile);
            }
            return new Keys("box-" + stamp.modified().toMillis() + "-" + stamp.size(), chain.toArray(X509Certificate[]::new),
                    key, stamp);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("event=certificate-unreadable file={} error=\"{}\" offering=\"{}\"", chainFile, e.getMessage(),
                    before == null ? "self-signed" : before.chain[0].getSubjectX500Principal());
            return before != null ? before : selfSigned();
        }
    }

    /** Whether {@code key} is the private half of the certificate's key: it signs, the certificate verifies. */
    private static boolean pair(X509Certificate certificate, PrivateKey key) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> throw new GeneralSecurityException("a " + key.getAlgorithm() + " key is not offered (EC or RSA)");
        };
        byte[] probe = new byte[32];
        new SecureRandom().nextBytes(probe);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(certificate.getPublicKey());
        verify.update(probe);
        return verify.verify(signature);
    }

    private Keys selfSigned() {
        return new Keys("self-signed", new X509Certificate[] {selfSigned.certificate()}, selfSigned.privateKey(), null);
    }

    /**
     * A PEM PKCS#8 private key ("PRIVATE KEY"), as the supervisor hands it over, made by the JDK's
     * own key factory: Bouncy Castle's converter names an EC key "ECDSA" once its provider is
     * registered (as in the supervisor, for acme4j), and the handshake asks for "EC".
     */
    static PrivateKey readKey(Path file) throws IOException {
        try (Reader in = Files.newBufferedReader(file); PEMParser pem = new PEMParser(in)) {
            if (pem.readObject() instanceof PrivateKeyInfo info) {
                var oid = info.getPrivateKeyAlgorithm().getAlgorithm();
                String algorithm = oid.equals(X9ObjectIdentifiers.id_ecPublicKey) ? "EC"
                        : oid.equals(PKCSObjectIdentifiers.rsaEncryption) ? "RSA" : null;
                if (algorithm == null) {
                    throw new IOException(file + " holds a key of algorithm " + oid + " (EC or RSA are offered)");
                }
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
            }
            throw new IOException(file + " holds no PKCS#8 private key in PEM");
        } catch (GeneralSecurityException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    // The key manager's side: one server identity, offered for the key type it is.

    private String alias(String keyType) {
        Keys keys = keys();
        String algorithm = keys.key.getAlgorithm();
        boolean fits = keyType.equals(algorithm) || ("RSA".equals(algorithm) && keyType.equals("RSASSA-PSS"));
        return fits ? keys.alias : null;
    }

    private Keys named(String alias) {
        Keys now = current;
        Keys then = previous;
        return Objects.equals(now.alias, alias) ? now : then != null && Objects.equals(then.alias, alias) ? then : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return alias(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return alias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String alias = alias(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Keys keys = named(alias);
        return keys == null ? null : keys.chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Keys keys = named(alias);
        return keys == null ? null : keys.key;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
