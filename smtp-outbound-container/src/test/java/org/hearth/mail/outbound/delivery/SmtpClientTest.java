package org.hearth.mail.outbound.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.tls.TlsIdentity;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Delivery to a receiving server Hearth did not write (aiosmtpd), and to misbehaving ones. */
class SmtpClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Lines a naive client would end DATA on, or lose a dot from; and 8-bit text. */
    private static final byte[] MESSAGE = String.join("\r\n",
            "From: alice@a.test", "To: bob@b.test", "Subject: dots and more", "DKIM-Signature: v=1; a=ed25519-sha256; b=x",
            "", ".", ".leading dot", "..two dots", "Grüße", ". ", "last").getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private final SmtpClient client = new SmtpClient("mx.a.test", Duration.ofSeconds(10), OpportunisticTls.context());

    @Test
    void theExactBytesArriveWithEachRecipientsOwnOutcome() throws Exception {
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("rcpt_replies", Map.of(
                "nobody@b.test", "550 5.1.1 <nobody@b.test>: no such user",
                "busy@b.test", "452 4.2.2 mailbox full")))) {
            Map<String, Outcome> out = client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("bob@b.test", "nobody@b.test", "busy@b.test"), MESSAGE.length, source(MESSAGE)).outcomes();
            assertThat(out.get("bob@b.test").state()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(out.get("bob@b.test").reply()).startsWith("250 2.0.0 Ok: queued as 1");
            assertThat(out.get("nobody@b.test")).isEqualTo(Outcome.failed("550 5.1.1 <nobody@b.test>: no such user (at RCPT TO)"));
            assertThat(out.get("busy@b.test")).isEqualTo(Outcome.deferred("452 4.2.2 mailbox full (at RCPT TO)"));

            // What was signed is what arrives: every dot line intact, the message ended with CRLF.
            byte[] received = Files.readAllBytes(dir.resolve("message-1.eml"));
            assertThat(new String(received, StandardCharsets.UTF_8)).isEqualTo(new String(MESSAGE, StandardCharsets.UTF_8) + "\r\n");
            JsonNode meta = JSON.readTree(dir.resolve("message-1.json").toFile());
            assertThat(meta.path("rcpt_tos")).extracting(JsonNode::asText).containsExactly("bob@b.test");
            assertThat(meta.path("helo").asText()).isEqualTo("mx.a.test");
            assertThat(meta.path("mail_options")).extracting(JsonNode::asText).contains("BODY=8BITMIME", "SIZE=" + MESSAGE.length);
            assertThat(meta.path("tls").asBoolean()).isFalse();
        }
    }

    /** RFC 6531/6532: SMTPUTF8 when an address or a header field needs it, and no downgrade to a server without it. */
    @Test
    void nonAsciiAddressesAndUtf8FieldsGoWithSmtputf8AndNeverToAServerWithoutIt() throws Exception {
        byte[] utf8 = "From: Jörg <jörg@a.test>\r\nTo: zoë@b.test\r\nSubject: Grüße\r\n\r\nHallo.\r\n"
                .getBytes(StandardCharsets.UTF_8);
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of())) {
            Map<String, Outcome> out = client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.NONE, "jörg@a.test",
                    List.of("zoë@b.test"), utf8.length, source(utf8)).outcomes();
            assertThat(out.get("zoë@b.test").state()).as(out.toString()).isEqualTo(Envelope.State.DELIVERED);
            JsonNode meta = JSON.readTree(dir.resolve("message-1.json").toFile());
            assertThat(meta.path("mail_from").asText()).isEqualTo("jörg@a.test");
            assertThat(meta.path("rcpt_tos")).extracting(JsonNode::asText).containsExactly("zoë@b.test");
            assertThat(meta.path("mail_options")).extracting(JsonNode::asText).contains("SMTPUTF8", "BODY=8BITMIME");
            assertThat(Files.readAllBytes(dir.resolve("message-1.eml"))).isEqualTo(utf8);

            // ASCII addresses, but a UTF-8 header field (RFC 6532): SMTPUTF8 all the same.
            client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test", List.of("bob@b.test"),
                    utf8.length, source(utf8));
            assertThat(JSON.readTree(dir.resolve("message-2.json").toFile()).path("mail_options"))
                    .extracting(JsonNode::asText).contains("SMTPUTF8");
        }
        Path plainDir = Files.createDirectories(dir.resolve("plain"));
        try (SmtpPeer plain = SmtpPeer.start(plainDir, Map.of("smtputf8", false))) {
            Outcome refused = client.deliver(plain.address(), "mx.c.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("bob@c.test"), utf8.length, source(utf8)).outcomes().get("bob@c.test");
            assertThat(refused.state()).isEqualTo(Envelope.State.FAILED);
            assertThat(refused.reply()).startsWith("554 5.6.9 mx.c.test does not offer SMTPUTF8, which this message's UTF-8 header fields need");
            Outcome toUtf8 = client.deliver(plain.address(), "mx.c.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("zoë@c.test"), utf8.length, source(utf8)).outcomes().get("zoë@c.test");
            assertThat(toUtf8.reply()).startsWith("553 5.6.7 mx.c.test does not offer SMTPUTF8, which this message's non-ASCII addresses need");
            assertThat(plainDir.resolve("message-1.eml")).doesNotExist();

            // Legacy 8-bit header bytes that are no UTF-8 went with 8BITMIME before SMTPUTF8 and still do.
            byte[] latin1 = "From: alice@a.test\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nx\r\n".getBytes(StandardCharsets.ISO_8859_1);
            Outcome sent = client.deliver(plain.address(), "mx.c.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("bob@c.test"), latin1.length, source(latin1)).outcomes().get("bob@c.test");
            assertThat(sent.state()).as(sent.toString()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(JSON.readTree(plainDir.resolve("message-1.json").toFile()).path("mail_options"))
                    .extracting(JsonNode::asText).doesNotContain("SMTPUTF8");
        }
    }

    @Test
    void starttlsIsUsedWhenOffered() throws Exception {
        Path[] pem = selfSigned(dir, "mx.b.test");
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            Map<String, Outcome> out = client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.OPPORTUNISTIC,
                    "alice@a.test", List.of("bob@b.test"), MESSAGE.length, source(MESSAGE)).outcomes();
            assertThat(out.get("bob@b.test").state()).as(out.toString()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(JSON.readTree(dir.resolve("message-1.json").toFile()).path("tls").asBoolean()).isTrue();
        }
    }

    /**
     * Postfix's connection cache: the next message to the same server goes over the connection the
     * last one used (after RSET), under the same TLS; one left unused longer than 2 s is closed, and
     * one the server dropped meanwhile is replaced, the message not lost.
     */
    @Test
    void aConnectionCarriesTheNextMessageToTheSameServerAndIsClosedWhenIdle() throws Exception {
        Path[] pem = selfSigned(dir, "mx.b.test");
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("cert", pem[0].toString(), "key", pem[1].toString()))) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.OPPORTUNISTIC, "alice@a.test",
                        List.of("bob@b.test"), MESSAGE.length, source(MESSAGE)).outcomes().get("bob@b.test").state())
                        .isEqualTo(Envelope.State.DELIVERED);
            }
            // Plaintext is another way of reaching the server: its own connection.
            client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test", List.of("bob@b.test"),
                    MESSAGE.length, source(MESSAGE));
            Thread.sleep(4_500);
            client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.OPPORTUNISTIC, "alice@a.test", List.of("bob@b.test"),
                    MESSAGE.length, source(MESSAGE));
            List<JsonNode> meta = new java.util.ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                meta.add(JSON.readTree(dir.resolve("message-" + i + ".json").toFile()));
            }
            assertThat(meta).extracting(m -> m.path("tls").asBoolean()).containsExactly(true, true, true, false, true);
            assertThat(meta.get(1).path("peer")).isEqualTo(meta.get(0).path("peer"));
            assertThat(meta.get(2).path("peer")).isEqualTo(meta.get(0).path("peer"));
            assertThat(meta.get(3).path("peer")).isNotEqualTo(meta.get(0).path("peer"));
            assertThat(meta.get(4).path("peer")).as("a connection idle for more than 2 s is not used again")
                    .isNotEqualTo(meta.get(0).path("peer"));
        }
        // The server went away with a connection still kept: the next message finds out at RSET and
        // takes a new connection to the server now listening on that port.
        SmtpPeer first = SmtpPeer.start(Files.createDirectories(dir.resolve("first")), Map.of());
        int port = first.port();
        client.deliver(first.address(), "mx.c.test", SmtpClient.Tls.NONE, "alice@a.test", List.of("bob@c.test"),
                MESSAGE.length, source(MESSAGE));
        first.close();
        try (SmtpPeer second = SmtpPeer.start(Files.createDirectories(dir.resolve("second")), Map.of(), port)) {
            Map<String, Outcome> out = client.deliver(second.address(), "mx.c.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("bob@c.test"), MESSAGE.length, source(MESSAGE)).outcomes();
            assertThat(out.get("bob@c.test").state()).as(out.toString()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(dir.resolve("second").resolve("message-1.eml")).exists();
        }
    }

    /** A smarthost (aiosmtpd with AUTH over TLS only) whose certificate the relay settings trust. */
    private Relay relayWithTrust(Path trust, int port) throws Exception {
        Path secrets = Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(secrets.resolve(Relay.PASSWORD_FILE), "relay-pass\n");
        Files.copy(trust, secrets.resolve(Relay.TRUST_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return new Relay("smtp.relay.test", port, java.util.Optional.of("alice"), secrets);
    }

    private SmtpClient.Attempt toRelay(Relay relay, SmtpPeer peer) throws Exception {
        return client.deliverToRelay(peer.address(), relay.host(), relay.implicitTls(), relay.tls(), relay.login(),
                "alice@a.test", List.of("bob@b.test"), MESSAGE.length, source(MESSAGE));
    }

    @Test
    void aRelayGetsTheMessageAfterStarttlsWithACheckedCertificateAndTheLogin() throws Exception {
        Path[] pem = selfSigned(dir, "smtp.relay.test");
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("cert", pem[0].toString(), "key", pem[1].toString(),
                "auth", Map.of("alice", "relay-pass")))) {
            Relay relay = relayWithTrust(pem[0], peer.port());

            SmtpClient.Attempt attempt = toRelay(relay, peer);

            assertThat(attempt.outcomes().get("bob@b.test").state()).as(attempt.toString()).isEqualTo(Envelope.State.DELIVERED);
            JsonNode meta = JSON.readTree(dir.resolve("message-1.json").toFile());
            assertThat(meta.path("tls").asBoolean()).isTrue();
            assertThat(meta.path("login").asText()).isEqualTo("alice");
            // The message's last line gets its CRLF before the final dot.
            assertThat(Files.readString(dir.resolve("message-1.eml"))).isEqualTo(new String(MESSAGE, StandardCharsets.UTF_8) + "\r\n");
        }
    }

    @Test
    void aRelayOnPort465SpeaksTlsFromTheFirstByte() throws Exception {
        Path[] pem = selfSigned(dir, "smtp.relay.test");
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("cert", pem[0].toString(), "key", pem[1].toString(),
                "implicit_tls", true, "auth", Map.of("alice", "relay-pass")))) {
            Relay relay = relayWithTrust(pem[0], peer.port());
            SmtpClient.Attempt attempt = client.deliverToRelay(peer.address(), relay.host(), true, relay.tls(), relay.login(),
                    "alice@a.test", List.of("bob@b.test"), MESSAGE.length, source(MESSAGE));

            assertThat(attempt.outcomes().get("bob@b.test").state()).as(attempt.toString()).isEqualTo(Envelope.State.DELIVERED);
            assertThat(JSON.readTree(dir.resolve("message-1.json").toFile()).path("login").asText()).isEqualTo("alice");
        }
    }

    /**
     * A wrong password, a certificate no trusted CA signed, a name the certificate does not carry,
     * or no STARTTLS at all: the mail waits (never bounces), and the password never leaves in plaintext.
     */
    @Test
    void aRelayThatCannotBeTrustedOrRefusesTheLoginGetsNothingAndTheMailWaits() throws Exception {
        Path[] pem = selfSigned(dir, "smtp.relay.test");
        Path[] stranger = selfSigned(Files.createDirectories(dir.resolve("other")), "smtp.relay.test");
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("cert", pem[0].toString(), "key", pem[1].toString(),
                "auth", Map.of("alice", "another-pass")))) {
            Relay relay = relayWithTrust(pem[0], peer.port());
            Outcome refused = toRelay(relay, peer).outcomes().get("bob@b.test");
            assertThat(refused.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(refused.reply()).contains("refused the login of alice", "535");

            // The same relay, its trust file replaced while it runs: the TLS it kept is made again.
            relayWithTrust(stranger[0], peer.port());
            Outcome untrusted = toRelay(relay, peer).outcomes().get("bob@b.test");
            assertThat(untrusted.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(untrusted.reply()).contains("failed at STARTTLS");

            Relay wrongName = new Relay("other.relay.test", peer.port(), relay.username(), relay.secrets());
            Outcome misnamed = client.deliverToRelay(peer.address(), wrongName.host(), false, wrongName.tls(), wrongName.login(),
                    "alice@a.test", List.of("bob@b.test"), MESSAGE.length, source(MESSAGE)).outcomes().get("bob@b.test");
            assertThat(misnamed.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(misnamed.reply()).contains("failed at STARTTLS");
        }
        try (SmtpPeer plain = SmtpPeer.start(Files.createDirectories(dir.resolve("plain")), Map.of())) {
            SmtpClient.Attempt plaintextOnly = toRelay(relayWithTrust(pem[0], plain.port()), plain);
            assertThat(plaintextOnly.withoutReply()).containsExactly("bob@b.test");
            Outcome noTls = plaintextOnly.outcomes().get("bob@b.test");
            assertThat(noTls.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(noTls.reply()).contains("did not start TLS");
        }
        try (Stream<Path> kept = Files.list(dir)) {
            assertThat(kept.filter(f -> f.toString().endsWith(".eml"))).isEmpty();
        }
    }

    @Test
    void aTemporaryRefusalOfTheMessageDefersEveryAcceptedRecipient() throws Exception {
        try (SmtpPeer peer = SmtpPeer.start(dir, Map.of("data_reply", "451 4.3.0 try again later"))) {
            SmtpClient.Attempt attempt = client.deliver(peer.address(), "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test",
                    List.of("bob@b.test", "carol@b.test"), MESSAGE.length, source(MESSAGE));
            Map<String, Outcome> out = attempt.outcomes();
            assertThat(out.values()).extracting(Outcome::state).containsOnly(Envelope.State.PENDING);
            assertThat(out.get("carol@b.test").reply()).isEqualTo("451 4.3.0 try again later (at end of data)");
            assertThat(attempt.withoutReply()).as("the server's reply decided").isEmpty();
        }
    }

    @Test
    void nobodyListeningOrAHostileServerDefersAndNamesWhy() throws Exception {
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        SmtpClient.Attempt none = client.deliver(closed, "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test",
                List.of("bob@b.test"), MESSAGE.length, source(MESSAGE));
        assertThat(none.sessionFailed()).isTrue();
        assertThat(none.withoutReply()).containsExactly("bob@b.test");
        Outcome refused = none.outcomes().get("bob@b.test");
        assertThat(refused.state()).isEqualTo(Envelope.State.PENDING);
        assertThat(refused.reply()).startsWith("connection to mx.b.test [127.0.0.1] failed at connect");

        // A server that greets with an endless line: cut off, not read forever.
        try (ServerSocket hostile = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket c = hostile.accept()) {
                    c.getOutputStream().write(("220 " + "x".repeat(100_000)).getBytes(StandardCharsets.US_ASCII));
                    c.getInputStream().read();
                } catch (Exception ignored) {
                    // the client hung up, as it should
                }
            });
            t.start();
            Outcome cut = client.deliver(new InetSocketAddress(InetAddress.getLoopbackAddress(), hostile.getLocalPort()),
                    "mx.b.test", SmtpClient.Tls.NONE, "alice@a.test", List.of("bob@b.test"), 10, source(MESSAGE)).outcomes().get("bob@b.test");
            assertThat(cut.reply()).contains("failed at greeting", "longer than 4096 bytes");
            t.join(5000);
        }
    }

    @Test
    void plaintextSentAlongWithTheStarttlsReplyIsRefused() throws Exception {
        try (ServerSocket injector = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket c = injector.accept()) {
                    var in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.US_ASCII));
                    var out = c.getOutputStream();
                    out.write("220 mx.b.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250-mx.b.test\r\n250 STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    // The injected reply rides in the same packet as the 220.
                    out.write("220 go ahead\r\n250 2.1.0 injected\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                } catch (Exception ignored) {
                    // the client hung up, as it should
                }
            });
            t.start();
            Outcome out = client.deliver(new InetSocketAddress(InetAddress.getLoopbackAddress(), injector.getLocalPort()),
                    "mx.b.test", SmtpClient.Tls.OPPORTUNISTIC, "alice@a.test", List.of("bob@b.test"), 10, source(MESSAGE))
                    .outcomes().get("bob@b.test");
            assertThat(out.state()).isEqualTo(Envelope.State.PENDING);
            assertThat(out.reply()).contains("failed at STARTTLS", "sent more after its STARTTLS reply");
            t.join(5000);
        }
    }

    private static SmtpClient.MessageSource source(byte[] bytes) {
        return new SmtpClient.MessageSource() {
            @Override
            public InputStream open() {
                return new ByteArrayInputStream(bytes);
            }

            @Override
            public boolean eightBit() {
                for (byte b : bytes) {
                    if (b < 0) {
                        return true;
                    }
                }
                return false;
            }
        };
    }

    /** A certificate and key as PEM files for the Python server, from Hearth's own TLS identity code. */
    static Path[] selfSigned(Path dir, String host) throws Exception {
        Path p12 = dir.resolve("tls/identity.p12");
        TlsIdentity.stored(p12, host);
        char[] password = Files.readString(p12.resolveSibling("identity.p12.password")).strip().toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, password);
        }
        String alias = ks.aliases().nextElement();
        var mime = Base64.getMimeEncoder(64, new byte[]{'\n'});
        Path cert = Files.writeString(dir.resolve("tls/cert.pem"), "-----BEGIN CERTIFICATE-----\n"
                + mime.encodeToString(ks.getCertificate(alias).getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Path key = Files.writeString(dir.resolve("tls/key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + mime.encodeToString(ks.getKey(alias, password).getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        return new Path[]{cert, key};
    }
}
