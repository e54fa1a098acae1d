package org.hearth.tests;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mail app's public HTTPS documents as the image serves them, on loopback: Hearth's sandbox
 * host with the wellknown handler (image-build/images/mail-wellknown), each connection in a sandbox
 * of its own. What a careful client sees of it (names, certificates by name) is PairedHomesTest's;
 * here, what anyone may send it: the wrong host, method or path, a request that never ends, one too
 * large, and which certificate it offers. The client here trusts any certificate, to see which.
 */
class WellKnownHandlerTest {

    private static final Path ROOT = EngineFixture.home().root();
    private static Path dir;
    private static Path secrets;
    private static Process host;
    private static int port;

    @BeforeAll
    static void startTheSandboxHost() throws Exception {
        // The secrets not under /tmp: each sandbox has a /tmp of its own, where they would not be.
        dir = EngineFixture.newStateDir("wellknown");
        // The host loads Hearth::Sandbox from a Hearth/ folder, as the image lays it out.
        Path lib = Files.createDirectories(dir.resolve("lib/Hearth"));
        for (String module : new String[]{"Sandbox.pm", "ServerTls.pm"}) {
            Files.copy(ROOT.resolve("image-build/sandbox").resolve(module), lib.resolve(module), StandardCopyOption.REPLACE_EXISTING);
        }
        // A checkout under /tmp (a CI clone) puts the state folder there too: the secrets then go to /var/tmp.
        secrets = dir.startsWith("/tmp") ? Files.createTempDirectory(Path.of("/var/tmp"), "hearth-wellknown-secrets-")
                : Files.createDirectories(dir.resolve("secrets"));
        port = freePort();
        ProcessBuilder builder = new ProcessBuilder("perl", "-I", dir.resolve("lib").toString(),
                ROOT.resolve("image-build/sandbox/hearth-sandbox-host").toString(), "--role", "wellknown", "--bind", "127.0.0.1",
                "--listen", String.valueOf(port), "--status", String.valueOf(freePort()),
                "--handler", ROOT.resolve("image-build/images/mail-wellknown/wellknown-handler.pl").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("host.log").toFile());
        builder.environment().putAll(java.util.Map.of("BOX_DOMAIN", "alice.test", "MAIL_MX_HOST", "mx.alice.test",
                "OWNER_HOSTNAME", "mail.alice.test", "CLIENT_IMAPS_PORT", "1993", "CLIENT_SUBMISSION_PORT", "1587",
                "CLIENT_SUBMISSIONS_PORT", "1465", "HEARTH_SECRETS", secrets.toString(), "HEARTH_SANDBOXES", "4"));
        host = builder.start();
        Await.until(Duration.ofSeconds(30), () -> Files.readString(dir.resolve("host.log")), () ->
                Files.readString(dir.resolve("host.log")).contains("event=ready") ? Optional.of(true) : Optional.empty());
    }

    /** Its folder is a test run's, which scripts/test removes with the rest; a secrets folder of /var/tmp goes here. */
    @AfterAll
    static void stop() throws Exception {
        if (host != null) {
            host.destroy();
            host.waitFor();
        }
        if (secrets != null && !secrets.startsWith(dir)) {
            try (var left = Files.list(secrets)) {
                for (Path p : left.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(secrets);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** What the server answered (status line to end) to {@code request}, and the certificate it offered. */
    private record Exchange(String answer, X509Certificate certificate) {
        String status() {
            return answer.lines().findFirst().orElse("");
        }

        String body() {
            return answer.substring(answer.indexOf("\r\n\r\n") + 4);
        }
    }

    private static Exchange send(String request) throws Exception {
        SSLContext anyCertificate = SSLContext.getInstance("TLS");
        anyCertificate.init(null, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) anyCertificate.getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Exchange(answer, (X509Certificate) socket.getSession().getPeerCertificates()[0]);
        }
    }

    private static String get(String host, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    }

    @Test
    void eachDocumentAtItsHostAndPathAndNothingElse() throws Exception {
        Exchange policy = send(get("mta-sts.alice.test", "/.well-known/mta-sts.txt"));
        assertThat(policy.status()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(policy.body()).isEqualTo("version: STSv1\r\nmode: testing\r\nmx: mx.alice.test\r\nmax_age: 604800\r\n");
        // A Host with its port, a query and HEAD, as clients send them.
        assertThat(send(get("autoconfig.alice.test:443", "/mail/config-v1.1.xml?emailaddress=alice%40alice.test")).body())
                .contains("<hostname>mail.alice.test</hostname>", "<port>1993</port>", "<port>1465</port>", "<port>1587</port>");
        Exchange head = send("HEAD /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.alice.test\r\n\r\n");
        assertThat(head.status()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(head.body()).isEmpty();

        assertThat(send(get("mta-sts.other.test", "/.well-known/mta-sts.txt")).status()).isEqualTo("HTTP/1.1 404 Not Found");
        assertThat(send(get("mta-sts.alice.test", "/../../etc/passwd")).status()).isEqualTo("HTTP/1.1 404 Not Found");
        assertThat(send("DELETE /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.alice.test\r\n\r\n").status())
                .isEqualTo("HTTP/1.1 405 Method Not Allowed");
        assertThat(send("hello\r\n\r\n").status()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\n").status()).isEqualTo("HTTP/1.1 400 Bad Request");
    }

    @Test
    void autodiscoverAnswersWithTheAddressOfItsOwnDomainOnly() throws Exception {
        String ask = "<?xml version=\"1.0\"?><Autodiscover><Request><EMailAddress>%s</EMailAddress></Request></Autodiscover>";
        for (String[] asked : new String[][]{{"bob@alice.test", "<LoginName>bob@alice.test</LoginName>"},
                {"eve@elsewhere.test", "<Server>mail.alice.test</Server>"}}) {
            String body = ask.formatted(asked[0]);
            Exchange answer = send("POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.alice.test\r\n"
                    + "Content-Type: text/xml\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            assertThat(answer.status()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(answer.body()).contains(asked[1]);
        }
        assertThat(send("POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.alice.test\r\n"
                + "Content-Length: 999999\r\n\r\n").status()).isEqualTo("HTTP/1.1 413 Content Too Large");
        assertThat(send("POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.alice.test\r\n"
                + "Content-Length: 500\r\n\r\n<Autodiscover>").body()).isEqualTo("The request did not come whole.\n");
    }

    @Test
    void itOffersTheBoxsCertificateOnceThereAndItsOwnUntilThen() throws Exception {
        assertThat(send(get("mta-sts.alice.test", "/")).certificate().getSubjectX500Principal().getName())
                .isEqualTo("CN=mta-sts.alice.test");
        Path[] issued = EngineFixture.certificate(dir.resolve("issued"), "autoconfig.alice.test");
        Files.copy(issued[1], secrets.resolve("tls-key.pem"));
        Files.copy(issued[0], secrets.resolve("tls-chain.pem"));
        try {
            assertThat(send(get("mta-sts.alice.test", "/")).certificate().getSubjectX500Principal().getName())
                    .isEqualTo("CN=autoconfig.alice.test");
        } finally {
            Files.delete(secrets.resolve("tls-chain.pem"));
            Files.delete(secrets.resolve("tls-key.pem"));
        }
    }
}
