package org.hearth.core.certificates;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

/** A TLS context that trusts only the CAs of one PEM file: a test world's server, or a home's own CA. */
public final class PemTrust {

    private PemTrust() {
    }

    /** @param setting the appliance.yaml key that named the file, for messages */
    public static SSLContext context(Path pem, String setting) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException(setting + ": " + pem + " holds no certificate");
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(setting + ": cannot read " + pem, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(setting + ": " + pem + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }
}
