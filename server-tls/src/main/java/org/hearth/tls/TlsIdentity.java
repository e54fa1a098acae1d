package org.hearth.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * A server's TLS key and self-signed certificate (EC P-256, so making one is instant even on a
 * Raspberry Pi). Clients see a self-signed certificate until ACME certificates exist.
 */
public final class TlsIdentity {

    private static final String ALIAS = "server";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyStore keyStore;
    private final char[] password;

    private TlsIdentity(KeyStore keyStore, char[] password) {
        this.keyStore = keyStore;
        this.password = password;
    }

    /** A fresh identity held only in memory (stateless containers). */
    public static TlsIdentity ephemeral(String hostname) {
        try {
            char[] password = randomPassword();
            return new TlsIdentity(create(hostname, password), password);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make a TLS certificate for " + hostname, e);
        }
    }

    /**
     * The identity stored at {@code file}, made there on first use. The file lives on the app's
     * (encrypted) volume; its password is only a container format requirement, kept beside it.
     */
    public static TlsIdentity stored(Path file, String hostname) {
        Path passwordFile = file.resolveSibling(file.getFileName() + ".password");
        try {
            if (Files.isRegularFile(file) && Files.isRegularFile(passwordFile)) {
                char[] password = Files.readString(passwordFile).strip().toCharArray();
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(file)) {
                    ks.load(in, password);
                }
                return new TlsIdentity(ks, password);
            }
            char[] password = randomPassword();
            KeyStore ks = create(hostname, password);
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".tls", ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                ks.store(out, password);
            }
            Files.writeString(passwordFile, new String(password));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new TlsIdentity(ks, password);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot load or make the TLS identity in " + file, e);
        }
    }

    public X509Certificate certificate() {
        try {
            return (X509Certificate) keyStore.getCertificate(ALIAS);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public PrivateKey privateKey() {
        try {
            return (PrivateKey) keyStore.getKey(ALIAS, password);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server-side context offering TLS 1.2 and 1.3 with this identity. */
    public SSLContext serverContext() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, RANDOM);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context", e);
        }
    }

    private static KeyStore create(String hostname, char[] password)
            throws GeneralSecurityException, IOException, OperatorCreationException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        KeyPair pair = generator.generateKeyPair();
        X500Name name = new X500Name("CN=" + hostname);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, RANDOM),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(825))), name, pair.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, hostname)));
        X509Certificate cert = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(ALIAS, pair.getPrivate(), password, new Certificate[] {cert});
        return ks;
    }

    private static char[] randomPassword() {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        return java.util.Base64.getEncoder().encodeToString(bytes).toCharArray();
    }
}
