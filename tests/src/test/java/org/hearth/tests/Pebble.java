package org.hearth.tests;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;

/**
 * Let's Encrypt's test CA, Debian's {@code pebble}, on loopback: its ACME API and management API
 * under a certificate made here ({@link #apiCertificate}, what a box must trust to reach it), its
 * DNS-01 checks asked of the given DNS server (the registry's Knot, ADDRESS:PORT), no random waits.
 */
final class Pebble implements AutoCloseable {

    final int port;
    final Path apiCertificate;
    private final int managementPort;
    private final Process process;

    Pebble(Path dir, String dnsServer) throws Exception {
        Files.createDirectories(dir);
        port = freePort();
        managementPort = freePort();
        Path[] identity = EngineFixture.certificate(dir.resolve("api"), "localhost");
        apiCertificate = identity[0];
        Path config = Files.writeString(dir.resolve("pebble.json"), """
                {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
                 "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
                 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
                """.formatted(port, managementPort, identity[0], identity[1], freePort(), freePort()));
        ProcessBuilder pb = new ProcessBuilder("pebble", "-config", config.toString(), "-dnsserver", dnsServer)
                .redirectErrorStream(true).redirectOutput(dir.resolve("pebble.log").toFile());
        pb.environment().put("PEBBLE_VA_NOSLEEP", "1");
        pb.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
        process = pb.start();
        Await.until(Duration.ofSeconds(30), () -> "pebble: " + Files.readString(dir.resolve("pebble.log")), () -> {
            try {
                return Optional.of(client().send(HttpRequest.newBuilder(URI.create(directory())).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode());
            } catch (java.io.IOException e) {
                return Optional.empty();
            }
        });
    }

    String directory() {
        return "https://localhost:" + port + "/dir";
    }

    /** The root this run of pebble issues under (it makes a new one at each start). */
    X509Certificate root() throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(rootPem().getBytes()));
    }

    /** The root of this run's CA as PEM: what a client outside this JVM trusts. */
    String rootPem() throws Exception {
        return client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + managementPort + "/roots/0")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private HttpClient client() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(apiCertificate)) {
            store.setCertificateEntry("pebble-api", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
