package org.hearth.mail.outbound.delivery;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.hearth.tls.TlsIdentity;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * MTA-STS (RFC 8461) with the real pieces: Knot publishes the _mta-sts records and the MX hosts, a
 * JDK HTTPS server the policies (as mta-sts.DOMAIN, whose address Knot gives too: the service asks
 * the resolver for it, not the system), and aiosmtpd receives, with or without TLS.
 */
class MtaStsTest {

    private static final String ZONE = KnotServer.testZone(
            "s            MX  10 mx.s.test.",
            "mx.s         A   127.0.0.1",
            "mta-sts.s    A   127.0.0.1",
            "mta-sts.t    A   127.0.0.1",
            "mta-sts.u    A   127.0.0.1",
            "_mta-sts.s   TXT \"v=STSv1; id=20261201a\"",
            "t            MX  10 mx.s.test.",
            "_mta-sts.t   TXT \"v=STSv1; id=1\"",
            "u            MX  10 mx.s.test.",
            "_mta-sts.u   TXT \"v=STSv1; id=1\"",
            "mta-sts.v    A   127.0.0.1",
            "_mta-sts.v   TXT \"v=STSv1; id=1\"",
            "mta-sts.w    A   127.0.0.1",
            "_mta-sts.w   TXT \"v=STSv1; id=1\"",
            "mta-sts.x    A   127.0.0.1",
            "_mta-sts.x   TXT \"v=STSv1; id=1\"");
    private static final byte[] MESSAGE = String.join("\r\n", "From: alice@a.test", "To: bob@s.test", "Subject: policy",
            "", "Hello", "").getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path shared;
    private static KnotServer knot;
    @TempDir
    Path dir;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T09:00:00Z"));
    private final InstantSource clock = now::get;

    @BeforeAll
    static void startDns() throws Exception {
        knot = KnotServer.start(shared.resolve("dns"), "test.", ZONE);
    }

    @AfterAll
    static void stopDns() throws Exception {
        knot.close();
    }

    /**
     * An HTTPS server for mta-sts.DOMAIN serving {@code policy} (as text/plain) on a free port; its
     * certificate is added to {@code trust}.
     */
    private HttpsServer policyServer(String domain, String policy, Path trust) throws Exception {
        return policyServer("mta-sts." + domain, trust, serving(policy));
    }

    /** Answers with {@code policy}, as text/plain. */
    private static HttpHandler serving(String policy) {
        return exchange -> {
            byte[] body = policy.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        };
    }

    /** An HTTPS server on a free port whose certificate, for {@code certifiedName}, is added to {@code trust}. */
    private HttpsServer policyServer(String certifiedName, Path trust, HttpHandler handler) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("https-" + certifiedName));
        Path[] pem = SmtpClientTest.selfSigned(folder, certifiedName);
        SSLContext tls = TlsIdentity.stored(folder.resolve("tls/identity.p12"), certifiedName).serverContext();
        Files.writeString(trust, Files.readString(trust) + Files.readString(pem[0]));
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/.well-known/mta-sts.txt", handler);
        server.start();
        return server;
    }

    private Deliverer deliverer(MailQueue queue, int smtpPort, MtaSts mtaSts) {
        return new Deliverer(queue, new MxResolver(knot.resolver(Duration.ofSeconds(2))),
                new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), Optional.empty(),
                Optional.empty(), new Deliverer.DestinationTls(Optional.empty(), Optional.of(mtaSts)), smtpPort, "mx.a.test", RetrySchedule.postfix(), clock,
                Deliverer.Concurrency.SERIAL);
    }

    private Envelope.Recipient only(MailQueue queue) throws Exception {
        List<Envelope> left = queue.list();
        assertThat(left).hasSize(1);
        return left.get(0).recipients().get(0);
    }

    /**
     * Enforced: delivered over TLS to the MX the policy names; the same MX without TLS gets nothing,
     * even after the policy host is gone (the cached policy stays in force); and once the MX offers
     * TLS again the waiting message leaves.
     */
    @Test
    void anEnforcedPolicyAllowsOnlyCheckedTlsToTheNamedMxAndOutlivesItsHost() throws Exception {
        Path[] mx = SmtpClientTest.selfSigned(Files.createDirectories(dir.resolve("mx")), "mx.s.test");
        Path trust = Files.writeString(dir.resolve("trust.pem"), Files.readString(mx[0]));
        HttpsServer https = policyServer("s.test", "version: STSv1\r\nmode: enforce\r\nmx: mx.s.test\r\nmax_age: 86400\r\n",
                trust);
        MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                https.getAddress().getPort(), dir.resolve("cache"), clock);
        assertThat(mtaSts.policy("s.test")).hasValueSatisfying(p -> {
            assertThat(p.mode()).isEqualTo(MtaSts.Mode.ENFORCE);
            assertThat(p.mx()).containsExactly("mx.s.test");
        });

        Path received = Files.createDirectories(dir.resolve("received"));
        int port;
        try (SmtpPeer tlsPeer = SmtpPeer.start(received, Map.of("cert", mx[0].toString(), "key", mx[1].toString()))) {
            port = tlsPeer.port();
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            queue.enqueue("alice@a.test", List.of("bob@s.test"), new ByteArrayInputStream(MESSAGE), clock.instant());
            deliverer(queue, port, mtaSts).runOnce();
            assertThat(queue.list()).isEmpty();
            assertThat(Files.readString(received.resolve("message-1.json"))).contains("\"tls\": true");
        }
        https.stop(0);

        Path plainReceived = Files.createDirectories(dir.resolve("plain"));
        try (SmtpPeer plain = SmtpPeer.start(plainReceived, Map.of(), port)) {
            MailQueue queue = MailQueue.open(dir.resolve("queue2"), RetrySchedule.postfix());
            queue.enqueue("alice@a.test", List.of("bob@s.test"), new ByteArrayInputStream(MESSAGE), clock.instant());
            deliverer(queue, port, mtaSts).runOnce();
            assertThat(only(queue).state()).isEqualTo(Envelope.State.PENDING);
            assertThat(only(queue).lastReply()).contains("did not start TLS", "s.test's MTA-STS policy asks for TLS with a valid certificate");
            assertThat(plainReceived).isEmptyDirectory();
        }
    }

    /** A policy that does not name the MX DNS gives (a spoofed MX, say): the mail waits rather than go there. */
    @Test
    void anMxThePolicyDoesNotNameGetsNothing() throws Exception {
        Path trust = Files.writeString(dir.resolve("trust.pem"), "");
        HttpsServer https = policyServer("t.test", "version: STSv1\nmode: enforce\nmx: *.t.test\nmax_age: 600\n", trust);
        try {
            MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                    https.getAddress().getPort(), dir.resolve("cache"), clock);
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            queue.enqueue("alice@a.test", List.of("bob@t.test"), new ByteArrayInputStream(MESSAGE), clock.instant());
            deliverer(queue, 1, mtaSts).runOnce();
            assertThat(only(queue).lastReply()).isEqualTo("no MX host of t.test is one its MTA-STS policy names (mx: *.t.test);"
                    + " not delivering elsewhere");
        } finally {
            https.stop(0);
        }
    }

    /** Testing mode asks for reports only: the mail goes as it would without a policy, plaintext if need be. */
    @Test
    void aPolicyInTestingModeChangesNothing() throws Exception {
        Path trust = Files.writeString(dir.resolve("trust.pem"), "");
        HttpsServer https = policyServer("u.test", "version: STSv1\nmode: testing\nmx: mx.s.test\nmax_age: 600\n", trust);
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer plain = SmtpPeer.start(received, Map.of())) {
            MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                    https.getAddress().getPort(), dir.resolve("cache"), clock);
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            queue.enqueue("alice@a.test", List.of("bob@u.test"), new ByteArrayInputStream(MESSAGE), clock.instant());
            deliverer(queue, plain.port(), mtaSts).runOnce();
            assertThat(queue.list()).isEmpty();
        } finally {
            https.stop(0);
        }
    }

    /**
     * A hostile policy host that streams a policy without end: the fetch stops after 64 KiB and hangs
     * up, rather than read the rest (closing a body reads it to its end), and no policy is taken.
     */
    @Test
    void anEndlessPolicyIsCutOffAndRefused() throws Exception {
        Path trust = Files.writeString(dir.resolve("trust.pem"), "");
        AtomicLong sent = new AtomicLong();
        CountDownLatch hungUp = new CountDownLatch(1);
        HttpsServer https = policyServer("mta-sts.v.test", trust, exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, 0);
            byte[] line = "mx: mx.s.test\n".repeat(256).getBytes(StandardCharsets.US_ASCII);
            try (OutputStream body = exchange.getResponseBody()) {
                while (true) {
                    body.write(line);
                    sent.addAndGet(line.length);
                }
            } catch (IOException clientWentAway) {
                hungUp.countDown();
            }
        });
        try {
            MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                    https.getAddress().getPort(), dir.resolve("cache"), clock);
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThat(mtaSts.policy("v.test")).isEmpty());
            assertThat(hungUp.await(30, TimeUnit.SECONDS)).as("the client hung up on the endless body").isTrue();
            assertThat(sent.get()).as("bytes the host got to send").isLessThan(16L << 20);
        } finally {
            https.stop(0);
        }
    }

    /**
     * A hostile policy host that answers a byte at a time, each well within the socket timeouts:
     * the fetch's own deadline ends it, and no policy is taken. Without the deadline this fetch
     * would hold its delivery thread for as long as the host keeps dribbling.
     */
    @Test
    void aPolicyHostThatDribblesIsCutOffAtTheDeadline() throws Exception {
        Path trust = Files.writeString(dir.resolve("trust.pem"), "");
        CountDownLatch hungUp = new CountDownLatch(1);
        HttpsServer https = policyServer("mta-sts.x.test", trust, exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody()) {
                for (byte b : "version: STSv1\nmode: enforce\nmx: mx.s.test\nmax_age: 600\n".repeat(100)
                        .getBytes(StandardCharsets.US_ASCII)) {
                    body.write(b);
                    body.flush();
                    Thread.sleep(500);
                }
            } catch (IOException clientWentAway) {
                hungUp.countDown();
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                    https.getAddress().getPort(), dir.resolve("cache"), clock, Duration.ofSeconds(3));
            long started = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThat(mtaSts.policy("x.test")).isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("how long the fetch took")
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(3));
            assertThat(hungUp.await(30, TimeUnit.SECONDS)).as("the client hung up on the dribbling host").isTrue();
        } finally {
            https.stop(0);
        }
    }

    /** A policy host whose certificate is good but names another host is not asked for the policy. */
    @Test
    void aPolicyHostCertifiedForAnotherNameIsRefused() throws Exception {
        Path trust = Files.writeString(dir.resolve("trust.pem"), "");
        AtomicInteger asked = new AtomicInteger();
        HttpHandler policy = serving("version: STSv1\nmode: enforce\nmx: mx.s.test\nmax_age: 600\n");
        HttpsServer https = policyServer("mta-sts.elsewhere.test", trust, exchange -> {
            asked.incrementAndGet();
            policy.handle(exchange);
        });
        try {
            MtaSts mtaSts = new MtaSts(knot.resolver(Duration.ofSeconds(2)), CheckedTls.context(Files.readAllBytes(trust)),
                    https.getAddress().getPort(), dir.resolve("cache"), clock);
            assertThat(mtaSts.policy("w.test")).isEmpty();
            assertThat(asked).as("requests that reached the host").hasValue(0);
        } finally {
            https.stop(0);
        }
    }

    @Test
    void policiesAreReadAsTheRfcWritesThemAndBadOnesRefusedWithTheReason() throws Exception {
        MtaSts.Policy p = MtaSts.Policy.parse("1", "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
                + "max_age: 9999999999\nextension: ignored\n", Instant.EPOCH);
        assertThat(p.matches("mail.example.com.")).isTrue();
        assertThat(p.matches("MX1.example.net")).isTrue();
        assertThat(p.matches("a.b.example.net")).as("a wildcard is one label").isFalse();
        assertThat(p.matches("example.net")).isFalse();
        assertThat(p.maxAge()).isEqualTo(31_557_600);
        assertThat(p.expired(Instant.EPOCH.plusSeconds(31_557_599))).isFalse();
        assertThat(p.expired(Instant.EPOCH.plusSeconds(31_557_600))).isTrue();
        for (String[] bad : new String[][]{{"version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "not STSv1"},
                {"version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n", "not enforce, testing or none"},
                {"version: STSv1\nmode: enforce\nmax_age: 1\n", "names no mx"},
                {"version: STSv1\nmode: enforce\nmx: a\nmax_age: soon\n", "not a number of seconds"}}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MtaSts.Policy.parse("1", bad[0], Instant.EPOCH))
                    .hasMessageContaining(bad[1]);
        }
    }
}
