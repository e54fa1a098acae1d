package org.hearth.mail.outbound.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Notices as Python's email package reads them: RFC 3464's layout, per-recipient status, original headers. */
class DeliveryStatusNoticeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant CREATED = Instant.parse("2026-12-01T09:00:00Z");
    private static final byte[] ORIGINAL = String.join("\r\n", "From: Alice <alice@a.test>", "To: bob@b.test",
            "Subject: The plan", "Message-ID: <plan@a.test>", "", "A body the bounce need not carry.", "")
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private static Envelope envelope(List<Envelope.Recipient> recipients) {
        return new Envelope("20261201T090000-abcdefabcdef", "alice@a.test", CREATED, 1, CREATED, false, recipients);
    }

    @Test
    void aBounceNamesEachFailedRecipientWithTheRemoteReply() throws Exception {
        var failed = List.of(
                new Envelope.Recipient("nobody@b.test", Envelope.State.FAILED, "550 5.1.1 <nobody@b.test>: Recipient address rejected"),
                new Envelope.Recipient("carol@c.test", Envelope.State.FAILED, "gave up after 5 days; last reply: 451 4.3.0 later"),
                new Envelope.Recipient("dave@d.test", Envelope.State.FAILED, "gave up after 5 days; last reply: connection refused"));
        JsonNode dsn = parse(DeliveryStatusNotice.bounce(envelope(failed), failed, ORIGINAL, "mx.a.test",
                CREATED.plusSeconds(60)));

        assertThat(dsn.path("defects")).isEmpty();
        assertThat(dsn.path("content_type").asText()).isEqualTo("multipart/report");
        assertThat(dsn.path("report_type").asText()).isEqualTo("delivery-status");
        assertThat(dsn.path("parts")).extracting(JsonNode::asText)
                .containsExactly("text/plain", "message/delivery-status", "text/rfc822-headers");
        assertThat(dsn.path("to").asText()).isEqualTo("alice@a.test");
        assertThat(dsn.path("auto_submitted").asText()).isEqualTo("auto-replied");
        assertThat(dsn.path("per_message").path("Reporting-MTA").asText()).isEqualTo("dns; mx.a.test");
        assertThat(dsn.path("recipients")).hasSize(3);
        JsonNode unknown = dsn.path("recipients").get(0);
        assertThat(unknown.path("Final-Recipient").asText()).isEqualTo("rfc822; nobody@b.test");
        assertThat(unknown.path("Action").asText()).isEqualTo("failed");
        assertThat(unknown.path("Status").asText()).isEqualTo("5.1.1");
        assertThat(unknown.path("Diagnostic-Code").asText()).isEqualTo("smtp; 550 5.1.1 <nobody@b.test>: Recipient address rejected");
        assertThat(dsn.path("recipients").get(1).path("Status").asText()).as("expired").isEqualTo("4.4.7");
        assertThat(dsn.path("recipients").get(2).path("Status").asText()).as("expired, never answered").isEqualTo("4.4.7");
        assertThat(dsn.path("recipients").get(2).has("Diagnostic-Code")).isFalse();
        assertThat(dsn.path("returned_headers").path("Message-ID").asText()).isEqualTo("<plan@a.test>");
        assertThat(dsn.path("human").asText()).contains("could not be delivered", "<nobody@b.test>: 550 5.1.1");
        assertThat(dsn.toString()).doesNotContain("A body the bounce need not carry");
    }

    /** RFC 6533: a bounce of mail to a non-ASCII address is a global report, in UTF-8. */
    @Test
    void aBounceForANonAsciiRecipientIsAGlobalDeliveryStatus() throws Exception {
        byte[] original = "From: Jörg <jörg@a.test>\r\nTo: zoë@b.test\r\nSubject: Grüße\r\n\r\nHallo.\r\n"
                .getBytes(StandardCharsets.UTF_8);
        var failed = List.of(new Envelope.Recipient("zoë+tag@b.test", Envelope.State.FAILED,
                "553 5.6.7 mx.b.test does not offer SMTPUTF8, which this message's non-ASCII addresses need"));
        Envelope e = new Envelope("20261201T090000-abcdefabcdef", "jörg@a.test", CREATED, 1, CREATED, false, failed);
        JsonNode dsn = parse(DeliveryStatusNotice.bounce(e, failed, original, "mx.a.test", CREATED.plusSeconds(60)));

        assertThat(dsn.path("defects")).isEmpty();
        assertThat(dsn.path("report_type").asText()).isEqualTo("global-delivery-status");
        assertThat(dsn.path("parts")).extracting(JsonNode::asText)
                .containsExactly("text/plain", "message/global-delivery-status", "message/global-headers");
        assertThat(dsn.path("to").asText()).isEqualTo("jörg@a.test");
        JsonNode r = dsn.path("recipients").get(0);
        // RFC 6533's unitext: "+", "=" and "\\" written as \\x{..}.
        assertThat(r.path("Final-Recipient").asText()).isEqualTo("utf-8; zoë\\x{2B}tag@b.test");
        assertThat(r.path("Status").asText()).isEqualTo("5.6.7");
        assertThat(dsn.path("returned_headers").path("Subject").asText()).isEqualTo("Grüße");
        // Mail to ASCII addresses with ASCII headers keeps the plain report (the test above).
    }

    @Test
    void aDelayNoticeSaysDelayedAndUntilWhen() throws Exception {
        var pending = List.of(new Envelope.Recipient("carol@c.test", Envelope.State.PENDING, "421 4.7.0 Try again later"));
        Instant until = CREATED.plus(java.time.Duration.ofDays(5));
        JsonNode dsn = parse(DeliveryStatusNotice.delay(envelope(pending), pending, ORIGINAL, "mx.a.test",
                CREATED.plus(java.time.Duration.ofHours(4)), until));
        JsonNode r = dsn.path("recipients").get(0);
        assertThat(r.path("Action").asText()).isEqualTo("delayed");
        assertThat(r.path("Status").asText()).isEqualTo("4.7.0");
        assertThat(r.path("Will-Retry-Until").asText()).isEqualTo("Sun, 6 Dec 2026 09:00:00 +0000");
        assertThat(dsn.path("subject").asText()).isEqualTo("Delayed Mail (still being retried)");
        assertThat(dsn.path("human").asText()).contains("you need not send it again");
    }

    @Test
    void statusCodesFollowRfc3463() {
        assertThat(DeliveryStatusNotice.status("554 5.7.1 rejected", "failed")).isEqualTo("5.7.1");
        assertThat(DeliveryStatusNotice.status("550 no enhanced code", "failed")).isEqualTo("5.0.0");
        assertThat(DeliveryStatusNotice.status("451 later", "delayed")).isEqualTo("4.0.0");
        assertThat(DeliveryStatusNotice.status("connection refused", "delayed")).isEqualTo("4.4.1");
        assertThat(DeliveryStatusNotice.status("no MX or address for b.test", "failed")).isEqualTo("5.4.1");
    }

    private JsonNode parse(byte[] notice) throws Exception {
        Path file = Files.write(dir.resolve("notice.eml"), notice);
        Path script = Path.of("src/test/python/dsn_parse.py").toAbsolutePath();
        Process p = new ProcessBuilder("python3", script.toString(), file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return JSON.readTree(out);
    }
}
