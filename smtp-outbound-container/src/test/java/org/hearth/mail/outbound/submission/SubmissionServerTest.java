package org.hearth.mail.outbound.submission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.apache.james.protocols.netty.NettyServer;
import org.hearth.mail.common.AuthThrottle;
import org.hearth.tls.TlsIdentity;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Submission as a mail client sees it (Python's smtplib) on both ports, with real DKIM keys and the
 * real queue behind it. The accounts here are a stand-in for the store's (which answer over its
 * internal port in the container; the engine tests cover that path): alice, with two aliases.
 */
class SubmissionServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGE = "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello\r\n\r\nHi Bob.\r\n";

    @TempDir
    static Path dir;
    private static MailQueue queue;
    private static SignAndQueue acceptor;
    private static final TlsIdentity TLS = TlsIdentity.ephemeral("owner.a.test");
    private static final SubmissionServer.Accounts ACCOUNTS = (user, password, client) ->
            user.equals("alice@a.test") && password.equals("alice-secret") ? Optional.of(Set.of("alice@a.test", "info@a.test", "jörg@a.test"))
                    : Optional.empty();
    private static final List<NettyServer> SERVERS = new ArrayList<>();
    private static int starttlsPort;
    private static int implicitPort;

    @BeforeAll
    static void start() throws Exception {
        queue = MailQueue.open(dir.resolve("queue"), RetrySchedule.postfix());
        acceptor = new SignAndQueue(new DkimKeys(dir.resolve("dkim")), queue, InstantSource.system());
        AuthThrottle throttle = new AuthThrottle(3, Duration.ofSeconds(30), Duration.ofMinutes(5), InstantSource.system());
        starttlsPort = server(SubmissionServer.Tls.STARTTLS, throttle);
        implicitPort = server(SubmissionServer.Tls.IMPLICIT, throttle);
    }

    /** A server on a free loopback port; returns the port. */
    private static int server(SubmissionServer.Tls tls, AuthThrottle throttle) throws Exception {
        NettyServer server = SubmissionServer.build(tls, "owner.a.test", 10_000_000, TLS.serverContext(), ACCOUNTS, acceptor,
                throttle, new DefaultMetricFactory());
        server.setListenAddresses(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        server.bind();
        SERVERS.add(server);
        return server.getListenAddresses().get(0).getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        SERVERS.forEach(NettyServer::unbind);
        queue.close();
    }

    @Test
    void aLoggedInUserSendsAndTheMessageIsSignedAndQueuedBeforeThe250() throws Exception {
        JsonNode out = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1);
        assertThat(out.path("features")).extracting(JsonNode::asText).contains("auth", "size");
        assertThat(out.path("logins")).extracting(JsonNode::asInt).containsExactly(235);
        assertThat(out.path("data").get(0).asInt()).isEqualTo(250);
        String id = out.path("data").get(1).asText().replaceAll("^.*Queued as (\\S+).*$", "$1");
        Envelope queued = queue.list().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
        assertThat(queued.sender()).isEqualTo("alice@a.test");
        assertThat(queued.recipients()).extracting(Envelope.Recipient::address).containsExactly("bob@b.test");
        try (var in = queue.message(id)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).startsWith("DKIM-Signature: a=rsa-sha256;").contains("a=ed25519-sha256;", "d=a.test;")
                    .contains("Subject: hello");
            // This server's own Received field, above everything the client wrote.
            assertThat(text.substring(text.indexOf("\r\nReceived: ") + 2)).startsWith("Received: from ")
                    .containsPattern("^Received: from \\S+ \\(\\[127\\.0\\.0\\.1\\]\\)\r\n\tby \\S+ \\(Hearth submission\\) with ESMTPSA ");
        }
    }

    /** Found by the outbound benchmark: smtplib sends a message's bytes as given, LF-only lines and all. */
    @Test
    void bareLineFeedsAreQueuedAsCrlfSoEveryReceiverReadsTheSameLines() throws Exception {
        assertThat(SignAndQueue.crlf("a\nb\r\nc\rd\r\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("a\r\nb\r\nc\r\nd\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        JsonNode out = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("\r\n", "\n"));
        assertThat(out.path("data").get(0).asInt()).as("%s", out).isEqualTo(250);
        String id = out.path("data").get(1).asText().replaceAll("^.*Queued as (\\S+).*$", "$1");
        try (var in = queue.message(id)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).contains("Subject: hello\r\n").doesNotContainPattern("[^\r]\n");
        }
    }

    @Test
    void implicitTlsOn465WorksTheSameAndAnAliasIsTheUsersToo() throws Exception {
        JsonNode out = submit("implicit", implicitPort, "alice@a.test", "alice-secret", "info@a.test", 1);
        assertThat(out.path("logins")).extracting(JsonNode::asInt).containsExactly(235);
        assertThat(out.path("data").get(0).asInt()).isEqualTo(250);
    }

    @Test
    void noAuthIsOfferedOrAcceptedBeforeTls() throws Exception {
        JsonNode out = submit("none", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 0);
        assertThat(out.path("features_before_tls")).extracting(JsonNode::asText).contains("starttls").doesNotContain("auth");
        assertThat(out.path("auth_without_tls").get(0).asInt()).isEqualTo(538);
        // And nothing is taken without a login.
        assertThat(out.path("sender_refused").get(0).asInt()).isEqualTo(530);
    }

    @Test
    void sendingAsSomeoneElseIsRefusedWithTheReason() throws Exception {
        JsonNode out = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "ceo@a.test", 1);
        assertThat(out.path("sender_refused").get(0).asInt()).isEqualTo(550);
        assertThat(out.path("sender_refused").get(1).asText()).isEqualTo("5.7.1 ceo@a.test is not one of alice@a.test's addresses; send as one of them");
    }

    /** The From field is the author the recipient sees: only the user's own addresses, whatever the envelope says. */
    @Test
    void aFromFieldNamingSomeoneElseIsRefusedAtTheEndOfData() throws Exception {
        JsonNode forged = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("From: alice@a.test", "From: \"Bank\" <security@bank.example>"));
        assertThat(forged.path("data").get(0).asInt()).as("%s", forged).isEqualTo(550);
        assertThat(forged.path("data").get(1).asText())
                .isEqualTo("5.7.1 From: security@bank.example is not one of alice@a.test's addresses; write as one of them");
        // A display name, another case, a folded field and an alias are all still hers.
        JsonNode own = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("From: alice@a.test", "From: Alice Example <Alice@A.test>,\r\n info@a.test"));
        assertThat(own.path("data").get(0).asInt()).as("%s", own).isEqualTo(250);
    }

    /** RFC 6531/6532: a non-ASCII alias writes to a non-ASCII address, with UTF-8 header fields. */
    @Test
    void aNonAsciiAliasSendsWithSmtputf8AndTheMessageIsQueuedIntact() throws Exception {
        String message = "From: Jörg <jörg@a.test>\r\nTo: Zoë <zoë@b.test>\r\nSubject: Grüße\r\n\r\nSchöne Grüße.\r\n";
        JsonNode out = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "jörg@a.test", 1, message,
                Map.of("rcpts", List.of("zoë@b.test"), "mail_options", List.of("SMTPUTF8")));
        assertThat(out.path("features")).extracting(JsonNode::asText).contains("smtputf8");
        assertThat(out.path("data").get(0).asInt()).as("%s", out).isEqualTo(250);
        String id = out.path("data").get(1).asText().replaceAll("^.*Queued as (\\S+).*$", "$1");
        Envelope queued = queue.list().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
        assertThat(queued.sender()).isEqualTo("jörg@a.test");
        assertThat(queued.recipients()).extracting(Envelope.Recipient::address).containsExactly("zoë@b.test");
        try (var in = queue.message(id)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).endsWith(message).contains("(Hearth submission) with UTF8SMTPSA ");
        }
        // The From field is checked in UTF-8 too: another non-ASCII author is not hers.
        JsonNode forged = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "jörg@a.test", 1,
                message.replace("From: Jörg <jörg@a.test>", "From: Jürgen <jürgen@a.test>"),
                Map.of("rcpts", List.of("zoë@b.test"), "mail_options", List.of("SMTPUTF8")));
        // Replies go out as ASCII (James's transport): the ü shows as "?".
        assertThat(forged.path("data").get(0).asInt()).as("%s", forged).isEqualTo(550);
        assertThat(forged.path("data").get(1).asText())
                .isEqualTo("5.7.1 From: j?rgen@a.test is not one of alice@a.test's addresses; write as one of them");
    }

    /** Found in review: "From :" is a From field to every reader, a second one may be the one shown. */
    @Test
    void aFromFieldWithSpaceBeforeTheColonOrASecondFromFieldIsRefused() throws Exception {
        JsonNode spaced = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("From: alice@a.test", "From : security@bank.example"));
        assertThat(spaced.path("data").get(1).asText()).as("%s", spaced)
                .isEqualTo("5.7.1 From: security@bank.example is not one of alice@a.test's addresses; write as one of them");
        JsonNode twice = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("From: alice@a.test", "From: alice@a.test\r\nFrom: security@bank.example"));
        assertThat(twice.path("data").get(0).asInt()).as("%s", twice).isEqualTo(550);
        assertThat(twice.path("data").get(1).asText()).isEqualTo("5.6.0 The message has 2 From fields; it may have one");
    }

    /**
     * Header sections the signer would sign into a signature no one verifies: a first line that
     * continues nothing, and legacy 8-bit text (here Latin-1) that is not UTF-8. A UTF-8 header and
     * a Latin-1 body (8BITMIME's old business) still go.
     */
    @Test
    void aHeaderThatStartsWithAContinuationOrHasEightBitBytesThatAreNotUtf8IsRefusedByLine() throws Exception {
        JsonNode continued = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                " stray\r\n" + MESSAGE);
        assertThat(continued.path("data").get(0).asInt()).as("%s", continued).isEqualTo(550);
        assertThat(continued.path("data").get(1).asText())
                .isEqualTo("5.6.0 The header section begins with a continuation line (a space or tab first), which continues no field");
        String latin1 = "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nSch\u00f6n.\r\n";
        JsonNode legacy = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1, latin1,
                Map.of("encoding", "latin-1"));
        assertThat(legacy.path("data").get(0).asInt()).as("%s", legacy).isEqualTo(550);
        assertThat(legacy.path("data").get(1).asText()).isEqualTo("5.6.0 Header line 3 has 8-bit bytes that are not UTF-8;"
                + " send such text as UTF-8 (RFC 6532) or as encoded words (RFC 2047)");
        JsonNode body = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                latin1.replace("Gr\u00fc\u00dfe", "=?ISO-8859-1?Q?Gr=FC=DFe?="), Map.of("encoding", "latin-1"));
        assertThat(body.path("data").get(0).asInt()).as("a Latin-1 body: %s", body).isEqualTo(250);
    }

    /** Found in review: a From field after 256 KiB of other fields went unchecked (and was signed). */
    @Test
    void aHeaderSectionPastItsLimitIsRefusedSoNoFromFieldHidesBeyondIt() throws Exception {
        JsonNode hidden = submit("starttls", starttlsPort, "alice@a.test", "alice-secret", "alice@a.test", 1,
                MESSAGE.replace("From: alice@a.test", "From: security@bank.example"),
                Map.of("prefix", List.of("X-Padding: " + "p".repeat(66) + "\r\n", 4000)));   // 312 KB of fields first
        assertThat(hidden.path("data").get(0).asInt()).as("%s", hidden).isEqualTo(552);
        assertThat(hidden.path("data").get(1).asText()).isEqualTo("5.3.4 The header section is longer than 256 KiB; it may not be");
    }

    @Test
    void wrongPasswordsAreRefusedThenThrottled() throws Exception {
        // A server of its own: the throttle it fills must not slow the other tests' logins.
        int port = server(SubmissionServer.Tls.STARTTLS,
                new AuthThrottle(3, Duration.ofSeconds(30), Duration.ofMinutes(5), InstantSource.system()));
        JsonNode out = submit("starttls", port, "mallory@a.test", "guess", "mallory@a.test", 5);
        // Three free tries (535), then the user and this client must wait (454), even with a right password.
        assertThat(out.path("logins")).extracting(JsonNode::asInt).containsExactly(535, 535, 535, 454, 454);
        assertThat(out.path("sender_refused").get(0).asInt()).isEqualTo(530);
    }

    private static JsonNode submit(String tls, int port, String user, String password, String sender, int logins)
            throws Exception {
        return submit(tls, port, user, password, sender, logins, MESSAGE);
    }

    private static JsonNode submit(String tls, int port, String user, String password, String sender, int logins,
                                   String message) throws Exception {
        return submit(tls, port, user, password, sender, logins, message, Map.of());
    }

    private static JsonNode submit(String tls, int port, String user, String password, String sender, int logins,
                                   String message, Map<String, Object> more) throws Exception {
        Map<String, Object> args = new HashMap<>(Map.of("host", "127.0.0.1", "port", port, "tls", tls, "user", user,
                "password", password, "sender", sender, "rcpts", List.of("bob@b.test"), "message", message, "logins", logins));
        args.putAll(more);
        Path script = Path.of("src/test/python/submit.py").toAbsolutePath();
        Process p = new ProcessBuilder("python3", script.toString(), JSON.writeValueAsString(args)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return JSON.readTree(out);
    }
}
