package org.hearth.registry;

import org.hearth.tls.TlsIdentity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The registry serving HTTPS itself (REGISTRY_TLS_CHAIN, REGISTRY_TLS_KEY), against a real Knot:
 * a client that checks the certificate for the registry's name gets the API and the pages, with
 * HSTS; a certificate renewed on disk is offered from the next connection on, with no restart.
 */
class RegistryHttpsTest {

    private static final String HOST = "registry.hearth.test";
    private static Path dir;
    private static TlsIdentity first;
    private static TestRegistry registry;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("registry-https");
        first = TlsIdentity.ephemeral(HOST);
        install(first);
        registry = TestRegistry.overHttps(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
        registry.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void aCarefulClientGetsTheApiAndThePagesOverHttpsThenTheRenewedCertificateWithNoRestart() throws Exception {
        String info = get(first.certificate(), "/v1/info");
        assertThat(info).startsWith("HTTP/1.1 200").contains("\"zone\":\"" + TestRegistry.ZONE + "\"");
        assertThat(info.toLowerCase(java.util.Locale.ROOT)).contains("strict-transport-security: max-age=31536000");
        assertThat(get(first.certificate(), "/pair")).startsWith("HTTP/1.1 200").contains("<title>Hearth: pair your box</title>");

        TlsIdentity renewed = TlsIdentity.ephemeral(HOST);
        install(renewed);
        Thread.sleep(2_100);
        assertThat(get(renewed.certificate(), "/v1/info")).startsWith("HTTP/1.1 200");
        // A client that trusts only the old certificate now refuses the handshake.
        assertThatThrownBy(() -> get(first.certificate(), "/v1/info")).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void certificateFilesThatCannotBeReadAreNamedAtStart() {
        assertThatThrownBy(() -> new RegistryService.Https(dir.resolve("missing.pem"), dir.resolve("privkey.pem")))
                .hasMessageContaining("REGISTRY_TLS_CHAIN and REGISTRY_TLS_KEY: cannot read " + dir.resolve("missing.pem"));
    }

    /** Key first, then the chain, each replaced whole, as an ACME client renews them. */
    private static void install(TlsIdentity identity) throws IOException {
        replace(dir.resolve("privkey.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(identity.privateKey().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        try {
            replace(dir.resolve("fullchain.pem"), "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(identity.certificate().getEncoded())
                    + "\n-----END CERTIFICATE-----\n");
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
    }

    private static void replace(Path file, String text) throws IOException {
        Path next = file.resolveSibling("." + file.getFileName() + ".new");
        Files.writeString(next, text);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** GET over TLS that trusts only {@code trusted} and checks it names {@link #HOST}: the whole answer. */
    private static String get(X509Certificate trusted, String path) throws Exception {
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        roots.setCertificateEntry("registry", trusted);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", registry.port()), 5000);
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, HOST, registry.port(), true);
            SSLParameters params = tls.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            params.setServerNames(List.of(new SNIHostName(HOST)));
            tls.setSSLParameters(params);
            tls.setSoTimeout(10_000);
            tls.startHandshake();
            tls.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(tls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
