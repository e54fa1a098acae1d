package org.hearth.core.certificates;

import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

import javax.net.ssl.SSLContext;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An ACME server at any https:// directory, reached with Java's own trusted CAs or, when
 * appliance.yaml's {@code acme.trust} names a PEM file, with only the CAs in it (a test world's
 * pebble serves its API under a certificate of its own).
 */
final class TrustingAcmeProvider extends GenericAcmeProvider {

    private final Optional<SSLContext> context;

    TrustingAcmeProvider(Optional<Path> trust) {
        this.context = trust.map(pem -> PemTrust.context(pem, "acme.trust"));
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
}
