package org.hearth.core.certificates;

import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Optional;

/**
 * An ACME server at any https:// directory, reached with Java's own trusted CAs or, when
 * appliance.yaml's {@code acme.trust} names a PEM file, with only the CAs in it (a test world's
 * pebble serves its API under a certificate of its own).
 */
final class TrustingAcmeProvider extends GenericAcmeProvider {

    private final Optional<SSLContext> context;

    TrustingAcmeProvider(Optional<Path> trust) {
        this.context = trust.map(TrustingAcmeProvider::contextTrusting);
    }

    @Override
    protected HttpConnector createHttpConnector(NetworkSettings settings) {
        if (context.isEmpty()) {
            return super.createHttpConnector(settings);
        }
        return new HttpConnector(settings) {
            @Override
            public HttpClient.Builder createClientBuilder() {
                return super.createClientBuilder().sslContext(context.get());
            }
        };
    }

    private static SSLContext contextTrusting(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("acme.trust: " + pem + " holds no certificate");
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException("acme.trust: cannot read " + pem, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("acme.trust: " + pem + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }
}
