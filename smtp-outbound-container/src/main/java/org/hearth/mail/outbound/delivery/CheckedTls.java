package org.hearth.mail.outbound.delivery;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

/**
 * TLS whose certificates are checked: the runtime's public CAs, plus any the owner added (PEM).
 * For a relay, and for MX hosts of domains whose MTA-STS policy asks for it; the host name is
 * checked by whoever opens the connection. Making one loads the runtime's CA file: keep it, and
 * make another only when the owner's certificates change.
 */
public final class CheckedTls {

    private CheckedTls() {
    }

    /** The runtime's public CAs alone. */
    public static SSLContext publicCas() throws IOException {
        return context(new byte[0]);
    }

    /** @param ownerPem PEM certificates trusted beside the public CAs; empty for none */
    public static SSLContext context(byte[] ownerPem) throws IOException {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            try (InputStream in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts"))) {
                trust.load(in, null);
            }
            if (ownerPem.length > 0) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(ownerPem))) {
                    trust.setCertificateEntry("owner-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("the trusted certificates cannot be loaded: " + e.getMessage(), e);
        }
    }
}
