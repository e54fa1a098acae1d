package org.hearth.core.certificates;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A certificate for one of the box's host names as kept in the state folder's {@code certificates/HOST/}: {@code
 * fullchain.pem} (the certificate, then its issuers) and {@code privkey.pem} (PKCS#8, owner-only). It is
 * renewed {@link #RENEW_BEFORE} before it expires, as Let's Encrypt advises for 90-day certificates.
 */
public record BoxCertificate(List<X509Certificate> chain) {

    public static final Duration RENEW_BEFORE = Duration.ofDays(30);
    public static final String CHAIN = "fullchain.pem";
    public static final String KEY = "privkey.pem";
    /** Left by {@code hearth certificate renew}: renew now, whatever the expiry. */
    public static final String RENEW_ASKED = "renew-asked";

    public static Path folder(Path certificates, String host) {
        return certificates.resolve(host);
    }

    public static Optional<BoxCertificate> read(Path folder) throws IOException {
        Path file = folder.resolve(CHAIN);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (chain.isEmpty()) {
                throw new IOException(file + " holds no certificate");
            }
            return Optional.of(new BoxCertificate(chain));
        } catch (CertificateException e) {
            throw new IOException(file + " is not a PEM certificate chain: " + e.getMessage(), e);
        }
    }

    /** The DNS names the certificate is for (its subject alternative names). */
    public List<String> names() {
        try {
            java.util.Collection<List<?>> alternatives = chain.get(0).getSubjectAlternativeNames();
            return alternatives == null ? List.of() : alternatives.stream().filter(n -> Integer.valueOf(2).equals(n.get(0)))
                    .map(n -> String.valueOf(n.get(1))).toList();
        } catch (java.security.cert.CertificateParsingException e) {
            return List.of();
        }
    }

    public Instant notAfter() {
        return chain.get(0).getNotAfter().toInstant();
    }

    public Instant renewFrom() {
        return notAfter().minus(RENEW_BEFORE);
    }
}
