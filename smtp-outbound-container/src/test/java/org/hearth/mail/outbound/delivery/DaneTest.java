package org.hearth.mail.outbound.delivery;

import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.junit.jupiter.api.BeforeEach;
import org.xbill.DNS.Message;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DANE (RFC 7672) with the real pieces: Knot signs the zone (DNSSEC) and publishes the TLSA
 * records, dnsjava validates from the zone's own key as trust anchor (the root's, on an
 * appliance), and aiosmtpd receives with the certificate the records name, or another.
 */
class DaneTest {

    private static final byte[] MESSAGE = String.join("\r\n", "From: alice@a.test", "To: bob@d.test", "Subject: dane",
            "", "Hello", "").getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    /** What stands between DANE's validator and Knot; a test may put an attacker there. */
    private UnaryOperator<Resolver> daneHead = UnaryOperator.identity();
    /** Where DANE records that DNSSEC validated through the resolver. */
    private Path dnssecSeen;

    @BeforeEach
    void noDnssecSeenYet() {
        dnssecSeen = dir.resolve("dane/dnssec-seen");
    }

    /** A resolver that drops the signatures from MX answers, as someone on the way to it could. */
    private static Resolver strippingMxSignatures(Resolver behind) {
        return new ForwardingResolver(behind) {
            @Override
            public CompletionStage<Message> sendAsync(Message query, Executor executor) {
                return behind.sendAsync(query, executor).thenApply(DaneTest::withoutMxSignatures);
            }

            @Override
            public CompletionStage<Message> sendAsync(Message query) {
                return behind.sendAsync(query).thenApply(DaneTest::withoutMxSignatures);
            }
        };
    }

    private static Message withoutMxSignatures(Message m) {
        if (m.getQuestion() == null || m.getQuestion().getType() != Type.MX) {
            return m;
        }
        Message copy = m.clone();
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof RRSIGRecord) {
                copy.removeRecord(r, Section.ANSWER);
            }
        }
        return copy;
    }

    /** SHA-256 of the certificate's public key (selector 1, matching type 1): what a DANE-EE record carries. */
    private static String spkiSha256(Path certPem) throws Exception {
        try (InputStream in = Files.newInputStream(certPem)) {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getPublicKey().getEncoded()));
        }
    }

    /** Delivers one message to bob@DOMAIN with DANE on, against a signed zone naming {@code mx.DOMAIN} at the peer's port. */
    private Envelope.Recipient deliver(String domain, int port, String tlsaLines, boolean signed) throws Exception {
        return deliver(domain, port, tlsaLines, signed, Optional.empty());
    }

    /** The same; with {@code forgedMx}, delivery's plain MX answer names that host instead (a forged answer). */
    private Envelope.Recipient deliver(String domain, int port, String tlsaLines, boolean signed, Optional<String> forgedMx)
            throws Exception {
        String zone = KnotServer.testZone(
                domain.replace(".test", "") + " MX 10 mx." + domain + ".",
                "mx." + domain.replace(".test", "") + " A 127.0.0.1",
                tlsaLines.replace("PORT", String.valueOf(port)));
        try (KnotServer knot = KnotServer.start(dir.resolve("dns-" + domain), "test.", zone, signed)) {
            Dane dane = new Dane(daneHead.apply(knot.resolver(Duration.ofSeconds(2))), new ByteArrayInputStream(
                    (signed ? knot.trustAnchors("test.") : "test. 60 IN DS 1 13 2 " + "00".repeat(32) + "\n")
                            .getBytes(StandardCharsets.US_ASCII)), Optional.of(dnssecSeen));
            MailQueue queue = MailQueue.open(dir.resolve("queue-" + domain), RetrySchedule.postfix());
            queue.enqueue("alice@a.test", List.of("bob@" + domain), new ByteArrayInputStream(MESSAGE), Instant.EPOCH);
            MxResolver mx = new MxResolver(knot.resolver(Duration.ofSeconds(2)));
            Router router = forgedMx.isEmpty() ? mx : new Router() {
                @Override
                public MxResolver.Route route(String d) {
                    return new MxResolver.Hosts(List.of(new MxResolver.Host(forgedMx.get(), 10,
                            List.of(java.net.InetAddress.getLoopbackAddress()))));
                }

                @Override
                public MxResolver.Route host(String name) {
                    return mx.host(name);
                }
            };
            new Deliverer(queue, router,
                    new SmtpClient("mx.a.test", Duration.ofSeconds(5), OpportunisticTls.context()), Optional.empty(),
                    Optional.empty(), new Deliverer.DestinationTls(Optional.of(dane), Optional.empty()), port, "mx.a.test",
                    RetrySchedule.postfix(), () -> Instant.EPOCH, Deliverer.Concurrency.SERIAL).runOnce();
            List<Envelope> left = queue.list();
            return left.isEmpty() ? new Envelope.Recipient("bob@" + domain, Envelope.State.DELIVERED, "")
                    : left.get(0).recipients().get(0);
        }
    }

    @Test
    void aServerWhoseKeyTheSignedTlsaRecordNamesGetsTheMailOverTls() throws Exception {
        Path[] pem = SmtpClientTest.selfSigned(dir, "mx.d.test");
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            Envelope.Recipient bob = deliver("d.test", peer.port(), "_PORT._tcp.mx.d TLSA 3 1 1 " + spkiSha256(pem[0]), true);

            assertThat(bob.state()).as(bob.lastReply()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(Files.readString(received.resolve("message-1.json"))).contains("\"tls\": true");
        }
    }

    /** Another key (a man in the middle's, say), or no STARTTLS at all: nothing is sent, the mail waits. */
    @Test
    void anotherKeyOrNoTlsGetsNothing() throws Exception {
        Path[] pem = SmtpClientTest.selfSigned(dir, "mx.d.test");
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            Envelope.Recipient bob = deliver("e.test", peer.port(), "_PORT._tcp.mx.e TLSA 3 1 1 " + "ab".repeat(32), true);
            assertThat(bob.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(bob.lastReply()).contains("failed at STARTTLS", "matches none of its TLSA records",
                    "mx.e.test publishes TLSA records (DANE)");
        }
        try (SmtpPeer plain = SmtpPeer.start(received, Map.of())) {
            Envelope.Recipient bob = deliver("f.test", plain.port(), "_PORT._tcp.mx.f TLSA 3 1 1 " + spkiSha256(pem[0]), true);
            assertThat(bob.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(bob.lastReply()).contains("did not start TLS");
        }
        assertThat(received).isEmptyDirectory();
    }

    /**
     * A forged plain MX answer naming another host, one whose own signed TLSA records its key
     * matches (an attacker with a signed zone of their own): with the domain's MX records signed,
     * only the hosts they name get the mail (RFC 7672 §2.2.1), so it waits.
     */
    @Test
    void aForgedMxAnswerCannotSendTheMailToAnotherHostWithItsOwnTlsaRecords() throws Exception {
        Path[] pem = SmtpClientTest.selfSigned(dir, "evil.i.test");
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            String tlsa = "_PORT._tcp.evil.i TLSA 3 1 1 " + spkiSha256(pem[0]) + "\nevil.i A 127.0.0.1";
            Envelope.Recipient bob = deliver("i.test", peer.port(), tlsa, true, Optional.of("evil.i.test"));
            assertThat(bob.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(bob.lastReply()).isEqualTo("the MX hosts found for i.test (evil.i.test) are not those its signed"
                    + " MX records name (mx.i.test); not delivering elsewhere");
        }
        assertThat(received).isEmptyDirectory();
    }

    /**
     * Securely no TLSA records: DANE does not apply, and plaintext still delivers. Nor where DNSSEC
     * does not reach the appliance at all (here the anchor's zone is served unsigned, as a resolver
     * that strips DNSSEC would show it): its TLSA records are anyone's.
     */
    @Test
    void withoutSignedTlsaRecordsDeliveryIsOpportunistic() throws Exception {
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer plain = SmtpPeer.start(received, Map.of())) {
            assertThat(deliver("g.test", plain.port(), "", true).state()).isEqualTo(Envelope.State.DELIVERED);
            Files.delete(dnssecSeen);
            assertThat(deliver("h.test", plain.port(), "_PORT._tcp.mx.h TLSA 3 1 1 " + "ab".repeat(32), false).state())
                    .as("without DNSSEC through the resolver, TLSA records are anyone's").isEqualTo(Envelope.State.DELIVERED);
        }
    }

    /** The root's anchors as shipped (no TTLs): the container's Dane is made from them. */
    @Test
    void theShippedRootAnchorsLoad() throws Exception {
        try (KnotServer knot = KnotServer.start(dir.resolve("dns-root"), "test.", KnotServer.testZone("x A 127.0.0.1"))) {
            assertThat(new Dane(knot.resolver(Duration.ofSeconds(2)), Dane.rootAnchors(), Optional.empty()).mx("x.test"))
                    .as("the test zone is under no anchor of these").isEqualTo(new Dane.UnsignedMx());
        }
    }

    /**
     * Found in review: signatures stripped from the MX answer made DANE not apply, so a forged plain
     * answer took the mail again. Once DNSSEC is seen to work through the resolver, an MX answer that
     * does not validate makes the mail wait; and a resolver that later stops carrying DNSSEC at all
     * makes it wait too, rather than turning DANE off.
     */
    @Test
    void anMxAnswerStrippedOfItsSignaturesMakesTheMailWaitOnceDnssecWorksThroughTheResolver() throws Exception {
        Path[] pem = SmtpClientTest.selfSigned(dir, "evil.j.test");
        Path received = Files.createDirectories(dir.resolve("received"));
        try (SmtpPeer peer = SmtpPeer.start(received, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            daneHead = DaneTest::strippingMxSignatures;
            Envelope.Recipient bob = deliver("j.test", peer.port(), "evil.j A 127.0.0.1", true, Optional.of("evil.j.test"));
            assertThat(bob.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(bob.lastReply()).isEqualTo("MX j.test did not validate (DNSSEC); not delivering where an unchecked answer points");
            assertThat(dnssecSeen).as("the anchors' keys validated through it").exists();

            daneHead = UnaryOperator.identity();
            Envelope.Recipient later = deliver("k.test", peer.port(), "", false, Optional.of("evil.k.test"));
            assertThat(later.state()).as("DNSSEC gone from a resolver that carried it").isEqualTo(Envelope.State.PENDING);
            assertThat(later.lastReply()).startsWith("MX k.test did not validate (DNSSEC)");
        }
        assertThat(received).isEmptyDirectory();
    }

    /**
     * DANE-TA(2): the record names a CA in the chain the server sends; it must sign down to the
     * server's certificate, which must carry the MX host's name.
     */
    @Test
    void aTrustAnchorRecordAcceptsWhatItsCaSignedForTheRightNameOnly() throws Exception {
        java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("EC");
        java.security.KeyPair caKeys = gen.generateKeyPair();
        java.security.KeyPair leafKeys = gen.generateKeyPair();
        java.security.KeyPair strangerKeys = gen.generateKeyPair();
        X509Certificate ca = certificate("CN=Test CA", caKeys.getPublic(), "CN=Test CA", caKeys.getPrivate(), null);
        X509Certificate leaf = certificate("CN=mx.d.test", leafKeys.getPublic(), "CN=Test CA", caKeys.getPrivate(), "mx.d.test");
        X509Certificate forged = certificate("CN=mx.d.test", leafKeys.getPublic(), "CN=Test CA", strangerKeys.getPrivate(), "mx.d.test");
        org.xbill.DNS.TLSARecord anchor = new org.xbill.DNS.TLSARecord(org.xbill.DNS.Name.fromString("_25._tcp.mx.d.test."),
                org.xbill.DNS.DClass.IN, 60, 2, 0, 1, MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));

        Dane.trustManager(List.of(anchor), "mx.d.test").checkServerTrusted(new X509Certificate[]{leaf, ca}, "ECDHE_ECDSA");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Dane.trustManager(List.of(anchor), "mx.other.test")
                        .checkServerTrusted(new X509Certificate[]{leaf, ca}, "ECDHE_ECDSA"))
                .hasMessageContaining("matches none of its TLSA records");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Dane.trustManager(List.of(anchor), "mx.d.test")
                        .checkServerTrusted(new X509Certificate[]{forged, ca}, "ECDHE_ECDSA"))
                .hasMessageContaining("matches none of its TLSA records");
    }

    private static X509Certificate certificate(String subject, java.security.PublicKey key, String issuer,
                                               java.security.PrivateKey issuerKey, String dnsName) throws Exception {
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(new org.bouncycastle.asn1.x500.X500Name(issuer),
                java.math.BigInteger.valueOf(System.nanoTime()), java.util.Date.from(Instant.now().minusSeconds(60)),
                java.util.Date.from(Instant.now().plus(Duration.ofDays(1))), new org.bouncycastle.asn1.x500.X500Name(subject), key);
        if (dnsName != null) {
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                    new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                            org.bouncycastle.asn1.x509.GeneralName.dNSName, dnsName)));
        }
        var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }
}
