package org.hearth.mail.outbound.delivery;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Optional;

/**
 * TLS whose certificates are checked: the runtime's public CAs, plus any the owner added (a PEM
 * file). For a relay, and for MX hosts of domains whose MTA-STS policy asks for it; the host name
 * is checked by whoever opens the connection.
 */
public final class CheckedTls {

    private CheckedTls() {
    }

    public static SSLContext context(Optional<Path> extraPem) throws IOException {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            try (InputStream in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts"))) {
                trust.load(in, null);
            }
            if (extraPem.isPresent() && Files.isRegularFile(extraPem.get())) {
                int i = 0;
                try (InputStream in = Files.newInputStream(extraPem.get())) {
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        trust.setCertificateEntry("owner-" + i++, c);
                    }
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
