package org.hearth.mail.outbound.admin;

import org.hearth.mail.outbound.delivery.KnotServer;
import org.hearth.mail.outbound.dkim.DkimKey;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.dns.MailDnsRecords;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The owner's outbound commands against a real queue, real keys and, for activation, a real DNS server (knotd). */
class OutboundAdminTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    @TempDir
    Path dir;
    private MailQueue queue;
    private DkimKeys keys;

    @BeforeEach
    void open() throws IOException {
        queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
        keys = new DkimKeys(dir.resolve("dkim"));
    }

    @AfterEach
    void close() throws IOException {
        queue.close();
    }

    private OutboundAdmin admin(Optional<org.xbill.DNS.Resolver> resolver) {
        return new OutboundAdmin(queue, keys, "mx.a.test", "mail.a.test", new MailDnsRecords.Ports(1993, 1587, 1465), resolver,
                InstantSource.fixed(NOW));
    }

    @Test
    void dnsMakesTheDomainsKeysAndPrintsEveryRecordWithTheClientsPorts() throws IOException {
        String zone = admin(Optional.empty()).run(List.of("dns", "A.test"));

        assertThat(keys.active("a.test")).hasSize(2);
        assertThat(zone).contains("a.test. 3600 IN MX 10 mx.a.test.")
                .contains("rsa-20261201._domainkey.a.test.").contains("ed-20261201._domainkey.a.test.")
                .contains("_dmarc.a.test. 3600 IN TXT \"v=DMARC1; p=reject")
                // Where the box's listeners are (the admin was given 1993, 1587, 1465), not the usual ports.
                .contains("_submission._tcp.a.test. 3600 IN SRV 0 1 1587 mail.a.test.")
                .contains("_submissions._tcp.a.test. 3600 IN SRV 0 1 1465 mail.a.test.")
                .contains("_imaps._tcp.a.test. 3600 IN SRV 0 1 1993 mail.a.test.");
    }

    @Test
    void queueListRetryAndDelete() throws IOException {
        String id = queue.enqueue("alice@a.test", List.of("carol@b.test"), new ByteArrayInputStream(
                "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII)), NOW.minusSeconds(600));
        queue.record(id, java.util.Map.of("carol@b.test", MailQueue.Outcome.deferred("451 4.3.0 try later (at end of data)")),
                NOW.minusSeconds(590));
        OutboundAdmin admin = admin(Optional.empty());

        String list = admin.run(List.of("queue", "list"));
        assertThat(list).contains(id + "  10m old").contains("from <alice@a.test>, attempts 1")
                .contains("<carol@b.test>  451 4.3.0 try later").endsWith("1 message queued.\n");
        assertThat(admin.run(List.of("queue", "retry", id))).isEqualTo(id + " will be tried at once.\n");
        assertThat(queue.due(NOW)).extracting(e -> e.id()).containsExactly(id);
        queue.release(id);
        assertThat(admin.run(List.of("queue", "delete", id))).startsWith(id + " deleted");
        assertThat(admin.run(List.of("queue", "list"))).isEqualTo("The queue is empty.\n");
        assertThatThrownBy(() -> admin.run(List.of("queue", "delete", id))).hasMessageStartingWith("no queued message");
        assertThatThrownBy(() -> admin.run(List.of("queue", "delete", "../../etc/passwd"))).hasMessageStartingWith("no queued message");
    }

    /** A rotation must not sign with keys DNS does not have yet: receivers would fail every message until it did. */
    @Test
    void rotatedKeysSignOnlyOnceDnsPublishesThem() throws Exception {
        keys.rotate("a.test", LocalDate.of(2026, 11, 1));
        OutboundAdmin unchecked = admin(Optional.empty());
        String rotated = unchecked.run(List.of("dkim", "rotate", "a.test"));
        List<DkimKey> fresh = keys.published("a.test").stream().filter(k -> k.selector().endsWith("20261201")).toList();

        assertThat(rotated).contains("they do not sign yet").contains(fresh.get(0).dnsName());
        assertThat(keys.active("a.test")).extracting(DkimKey::selector).containsExactly("rsa-20261101", "ed-20261101");
        assertThat(unchecked.run(List.of("dkim", "list", "a.test"))).contains("rsa-20261201         rsa-sha256       published, not signing")
                .contains("rsa-20261101         rsa-sha256       signing");
        assertThatThrownBy(() -> unchecked.run(List.of("dkim", "activate", "a.test"))).hasMessageContaining("no resolver");

        Path knot = dir.resolve("knot-empty");
        try (KnotServer dns = KnotServer.start(knot, "test.", KnotServer.testZone())) {
            assertThatThrownBy(() -> admin(Optional.of(dns.resolver(Duration.ofSeconds(2)))).run(List.of("dkim", "activate", "a.test")))
                    .hasMessageContaining("does not publish the new key yet");
        }
        String[] lines = fresh.stream().map(DkimKey::zoneLine).toArray(String[]::new);
        try (KnotServer dns = KnotServer.start(dir.resolve("knot-published"), "test.", KnotServer.testZone(lines))) {
            String activated = admin(Optional.of(dns.resolver(Duration.ofSeconds(2)))).run(List.of("dkim", "activate", "a.test"));
            assertThat(activated).contains("Now signing a.test's mail with rsa-20261201 and ed-20261201 (found in DNS)");
        }
        assertThat(keys.active("a.test")).extracting(DkimKey::selector).containsExactly("rsa-20261201", "ed-20261201");
    }

    @Test
    void theSocketCarriesArgumentsAndRefusals() throws Exception {
        try (AdminSocket socket = AdminSocket.serve(admin(Optional.empty()), 0)) {
            int port = socket.port();
            assertThat(ask(port, List.of("queue", "list"))).isEqualTo("OK\nThe queue is empty.\n");
            assertThat(ask(port, List.of("queue", "delete", "nope"))).startsWith("ERR no queued message nope");
            assertThat(ask(port, List.of("frobnicate"))).startsWith("ERR usage: hearth mail dns DOMAIN");
        }
    }

    private static String ask(int port, List<String> args) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write((AdminSocket.encode(args) + "\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
