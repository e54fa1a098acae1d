package org.hearth.mail.outbound.delivery;

import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.SimpleResolver;

import java.io.ByteArrayInputStream;
import java.net.DatagramSocket;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The queue, MX routing and the SMTP client together: a real DNS server (Knot) says where mail goes,
 * a real receiving server (aiosmtpd) takes it or refuses it.
 */
class DelivererTest {

    private static final String ZONE = KnotServer.testZone(
            // The first MX has no server (nothing listens at 127.0.0.21); the backup is the test's.
            "b        MX  10 mx1.b.test.",
            "b        MX  20 mx2.b.test.",
            "mx1.b    A   127.0.0.21",
            "mx2.b    A   127.0.0.1",
            "nullmx   MX  0 .",
            // A published MX name that is no valid TLS server name (SNI refuses underscores).
            "weird    MX  10 mx_1.weird.test.",
            "mx_1.weird A 127.0.0.1",
            "c        MX  10 mx2.b.test.",
            "smtp.relay A 127.0.0.1");
    private static final byte[] MESSAGE = String.join("\r\n", "From: alice@a.test", "To: bob@b.test",
            "Subject: Lunch", "Message-ID: <lunch@a.test>", "", "Noon?", "").getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dns;
    private static KnotServer knot;
    @TempDir
    Path dir;

    /** Time the test moves by hand. */
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T09:00:00Z"));
    private final InstantSource clock = now::get;

    @BeforeAll
    static void startDns() throws Exception {
        knot = KnotServer.start(dns, "test.", ZONE);
    }

    @AfterAll
    static void stopDns() throws Exception {
        knot.close();
    }

    private Deliverer deliverer(MailQueue queue, int port, RetrySchedule schedule) {
        return new Deliverer(queue, new MxResolver(knot.resolver(Duration.ofSeconds(2))),
                new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), port, "mx.a.test", schedule, clock);
    }

    /** Postfix's destination concurrency limit: never more sessions to one domain than allowed, however many workers. */
    @Test
    void workersDeliverInParallelButNeverMoreThanTheLimitToOneDestination() throws Exception {
        for (int perDestination : new int[]{2, 4}) {
            Path received = Files.createDirectories(dir.resolve("received-" + perDestination));
            try (SmtpPeer peer = SmtpPeer.start(received, Map.of("data_delay", 2))) {
                MailQueue queue = MailQueue.open(dir.resolve("queue-" + perDestination), RetrySchedule.postfix());
                Deliverer deliverer = new Deliverer(queue, new MxResolver(knot.resolver(Duration.ofSeconds(2))),
                        new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), Optional.empty(), Optional.empty(),
                        Deliverer.DestinationTls.OPPORTUNISTIC, peer.port(), "mx.a.test", RetrySchedule.postfix(), clock, new Deliverer.Concurrency(4, perDestination));
                for (int i = 0; i < 8; i++) {
                    enqueue(queue, "carol" + i + "@c.test");
                }

                assertThat(deliverer.runOnce()).isEqualTo(8);
                assertThat(queue.list()).isEmpty();
                try (Stream<Path> files = Files.list(received)) {
                    assertThat(files.filter(f -> f.toString().endsWith(".eml")).count()).isEqualTo(8);
                }
                // With 4 workers, 4 at once is possible: the limit, not chance, keeps it at 2.
                assertThat(Integer.parseInt(Files.readString(received.resolve("max_concurrent")))).isEqualTo(perDestination);
                queue.close();
            }
        }
    }

    private String enqueue(MailQueue queue, String... recipients) throws Exception {
        return queue.enqueue("alice@a.test", List.of(recipients), new ByteArrayInputStream(MESSAGE), clock.instant());
    }

    @Test
    void theBackupMxTakesItTheUnknownAndUndeliverableBounceAndTheBounceIsNeverBounced() throws Exception {
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("rcpt_replies",
                Map.of("nobody@b.test", "550 5.1.1 <nobody@b.test>: no such user")))) {
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            Deliverer deliverer = deliverer(queue, peer.port(), RetrySchedule.postfix());
            enqueue(queue, "bob@b.test", "nobody@b.test", "someone@nullmx.test");

            assertThat(deliverer.runOnce()).isEqualTo(1);
            assertThat(Files.readAllBytes(received.resolve("message-1.eml"))).isEqualTo(MESSAGE);
            assertThat(Files.readString(received.resolve("message-1.json"))).contains("\"rcpt_tos\": [\"bob@b.test\"]");

            // What is left is the bounce, to alice, from the null sender, naming both failures.
            Envelope bounce = queue.list().get(0);
            assertThat(queue.list()).hasSize(1);
            assertThat(bounce.sender()).isEmpty();
            assertThat(bounce.recipients()).extracting(Envelope.Recipient::address).containsExactly("alice@a.test");
            String text;
            try (var in = queue.message(bounce.id())) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(text).contains("Final-Recipient: rfc822; nobody@b.test", "Status: 5.1.1",
                    "Final-Recipient: rfc822; someone@nullmx.test", "Status: 5.1.10", "Message-ID: <lunch@a.test>")
                    .doesNotContain("Final-Recipient: rfc822; bob@b.test");

            // The way out, as hearth status shows it: the first MX refused the connection, the backup took it.
            assertThat(deliverer.wayOut().facts(now.get()).get("port25")).startsWith("works (connected to mx2.b.test [127.0.0.1]");

            // a.test does not exist in this world: the bounce fails, and is dropped, not bounced.
            assertThat(deliverer.runOnce()).isEqualTo(1);
            assertThat(queue.list()).isEmpty();
        }
    }

    @Test
    void aRefusedMessageWaitsItsTurnAndArrivesOnceWhenTheServerRecovers() throws Exception {
        Path received = Files.createDirectories(dir.resolve("received"));
        int port = SmtpPeer.freePort();
        MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
        Deliverer deliverer = deliverer(queue, port, RetrySchedule.postfix());
        String id = enqueue(queue, "bob@b.test");
        try (SmtpPeer busy = SmtpPeer.start(received, Map.of("data_reply", "451 4.3.0 try again later"), port)) {
            deliverer.runOnce();
        }
        Envelope deferred = queue.list().get(0);
        assertThat(deferred.id()).isEqualTo(id);
        assertThat(deferred.recipients().get(0).lastReply()).isEqualTo("451 4.3.0 try again later (at end of data)");
        assertThat(deferred.nextAttempt()).isEqualTo(clock.instant().plusSeconds(300));

        try (SmtpPeer recovered = SmtpPeer.start(received, Map.of(), port)) {
            assertThat(deliverer.runOnce()).as("not due yet").isZero();
            now.updateAndGet(t -> t.plusSeconds(300));
            assertThat(deliverer.runOnce()).isEqualTo(1);
            assertThat(deliverer.runOnce()).isZero();
        }
        assertThat(queue.list()).isEmpty();
        try (Stream<Path> files = Files.list(received)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("message-1.eml", "message-1.json");
        }
    }

    @Test
    void aLateMessageWarnsItsSenderOnce() throws Exception {
        RetrySchedule warnAtOnce = new RetrySchedule(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ZERO,
                Duration.ofDays(5));
        MailQueue queue = MailQueue.open(dir.resolve("queue"), warnAtOnce);
        // Nobody listens on this port at either MX: every attempt is deferred.
        Deliverer deliverer = deliverer(queue, SmtpPeer.freePort(), warnAtOnce);
        String id = enqueue(queue, "bob@b.test");
        deliverer.runOnce();
        List<Envelope> queued = queue.list();
        assertThat(queued).hasSize(2);
        Envelope notice = queued.stream().filter(e -> e.sender().isEmpty()).findFirst().orElseThrow();
        try (var in = queue.message(notice.id())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("Action: delayed",
                    "Final-Recipient: rfc822; bob@b.test", "Will-Retry-Until: Sun, 6 Dec 2026 09:00:00 +0000",
                    "connection to mx2.b.test [127.0.0.1] failed at connect");
        }
        now.updateAndGet(t -> t.plusSeconds(300));
        deliverer.runOnce();
        assertThat(queue.list()).extracting(Envelope::id).as("one notice, then none; the notice itself dropped")
                .containsExactly(id);
    }

    @Test
    void anMxNameNoTlsLibraryAcceptsNeitherStallsThePassNorStopsDelivery() throws Exception {
        Path received = Files.createDirectories(dir.resolve("received"));
        Path[] pem = SmtpClientTest.selfSigned(dir, "mx.weird.test");
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            Deliverer deliverer = deliverer(queue, peer.port(), RetrySchedule.postfix());
            enqueue(queue, "carol@weird.test");
            enqueue(queue, "bob@b.test");
            assertThat(deliverer.runOnce()).isEqualTo(2);
            assertThat(queue.list()).isEmpty();
            assertThat(Files.readString(received.resolve("message-1.json"))).contains("\"tls\": true");
        }
    }

    @Test
    void dnsTroubleDefersAndBouncesNothing() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            SimpleResolver nobody = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort()));
            nobody.setTimeout(Duration.ofMillis(300));
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            Deliverer deliverer = new Deliverer(queue, new MxResolver(nobody),
                    new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), 25, "mx.a.test",
                    RetrySchedule.postfix(), clock);
            enqueue(queue, "bob@b.test");
            deliverer.runOnce();
            assertThat(queue.list()).singleElement().satisfies(e -> {
                assertThat(e.sender()).isEqualTo("alice@a.test");
                assertThat(e.recipients().get(0).state()).isEqualTo(Envelope.State.PENDING);
                assertThat(e.recipients().get(0).lastReply()).startsWith("DNS lookup of MX b.test failed");
            });
            assertThat(deliverer.wayOut().facts(now.get()).get("port25")).startsWith("not tried yet");
        }
    }

    /**
     * A smarthost, found by its name in DNS: mail for every other domain goes there in one session,
     * over checked TLS with the login; without its password the mail waits, saying why, and
     * hearth status says how the relay last answered.
     */
    @Test
    void withARelayEveryOtherDomainsMailGoesThroughItOnceItsPasswordIsThere() throws Exception {
        Path[] pem = SmtpClientTest.selfSigned(dir, "smtp.relay.test");
        Path received = Files.createDirectories(dir.resolve("received"));
        Path secrets = Files.createDirectories(dir.resolve("secrets"));
        Files.copy(pem[0], secrets.resolve(Relay.TRUST_FILE));
        try (SmtpPeer relayServer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString(),
                "auth", Map.of("alice-relay", "relay-pass")))) {
            MailQueue queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
            Relay relay = new Relay("smtp.relay.test", relayServer.port(), Optional.of("alice-relay"), secrets);
            Deliverer deliverer = new Deliverer(queue, new MxResolver(knot.resolver(Duration.ofSeconds(2))),
                    new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), Optional.empty(),
                    Optional.of(relay), Deliverer.DestinationTls.OPPORTUNISTIC, 25, "mx.a.test", RetrySchedule.postfix(), clock, Deliverer.Concurrency.SERIAL);
            enqueue(queue, "bob@b.test", "carol@c.test");

            deliverer.runOnce();
            assertThat(queue.list()).singleElement().satisfies(e -> assertThat(e.recipients()).allSatisfy(r -> {
                assertThat(r.state()).isEqualTo(Envelope.State.PENDING);
                assertThat(r.lastReply()).contains("the relay smtp.relay.test:" + relayServer.port(),
                        "password is not here (set it: hearth secret set relay-password");
            }));
            assertThat(deliverer.wayOut().facts(now.get()).get("relay")).contains("failing (the relay's password is not here");

            Files.writeString(secrets.resolve(Relay.PASSWORD_FILE), "relay-pass\n");
            now.set(now.get().plus(Duration.ofHours(1)));
            deliverer.runOnce();

            assertThat(queue.list()).isEmpty();
            String meta = Files.readString(received.resolve("message-1.json"));
            assertThat(meta).contains("\"rcpt_tos\": [\"bob@b.test\", \"carol@c.test\"]", "\"login\": \"alice-relay\"",
                    "\"tls\": true");
            Map<String, String> facts = deliverer.wayOut().facts(now.get());
            assertThat(facts.get("relay")).startsWith("smtp.relay.test:" + relayServer.port() + ", works");
            assertThat(facts.get("port25")).startsWith("not used");
        }
    }
}
