package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mail app, inbound, end to end on the real engine with real clients: swaks and Python's
 * smtplib send to the public SMTP listener; Python's imaplib (STARTTLS) and a raw TLS IDLE client
 * read from the private IMAP listeners. The app is the shipped manifest with its own app id, host
 * ports and a 1 MiB size limit, so it runs beside a demo on the same machine.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MailInboundTest {

    private static final String APP = "mail-test";
    private static final String SMTP = "127.0.0.1";
    private static final int SMTP_PORT = 12525;
    private static final String IMAP = "127.0.0.2";
    private static final int IMAP_PORT = 11143;
    private static final int IMAPS_PORT = 11993;
    private static final String DOMAIN = "test.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String PASSWORD = "correct-horse-battery";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> state, () -> engine);
    private static HearthCli hearth;

    @BeforeAll
    static void installMailApp() throws IOException {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("mail");
        hearth = new HearthCli(state);
        String manifest = EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAPS_PORT)
                .replaceFirst("MAX_MESSAGE_BYTES: \"26214400\"", "MAX_MESSAGE_BYTES: \"1048576\"")
                .replace("SPAM_UNAVAILABLE: tempfail",
                        "SPAM_UNAVAILABLE: tempfail\n      SPAM_TIMEOUT_MS: \"15000\"\n      SPAM_MAX_SCAN_BYTES: \"200000\"");
        Path file = state.resolve("mail-test.yaml");
        Files.writeString(file, manifest);
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", file.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", APP);
        hearth.run("down");
        engine.close();
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(1)
    void swaksSendsAndImapReadsItInTheInbox() {
        String subject = "hello " + UUID.randomUUID();
        MailClients.Swaks sent = MailClients.swaks(List.of("--server", SMTP + ":" + SMTP_PORT, "--tls",
                "--to", ALICE, "--from", "bob@example.org", "--header", "Subject: " + subject, "--body", "Hi Alice"));

        assertThat(sent.exitCode()).as(sent.transcript()).isZero();
        assertThat(sent.transcript()).contains("250 2.0.0 Stored")
                .contains("STARTTLS").contains("250-PIPELINING").contains("250-8BITMIME").contains("250-ENHANCEDSTATUSCODES")
                .contains("SIZE 1048576");
        JsonNode inbox = fetch("INBOX");
        JsonNode got = message(inbox, subject);
        assertThat(got.path("spam").asText()).isEqualTo("NO");
        String raw = new String(java.util.Base64.getDecoder().decode(got.path("raw_b64").asText()), StandardCharsets.UTF_8);
        assertThat(raw).contains("Received: from").contains("X-Spam-Status: No, score=");
        assertThat(raw).as("the edge listener named the real client (PROXY v2), not its own gateway")
                .contains("([127.0.0.1])");
    }

    /**
     * Debian's SpamAssassin takes 5 points off a Subject starting "Debconf:" (its 65_debian.cf, meant
     * for a Debian machine's own reports): on an MX, anyone could write that. The image leaves it out.
     */
    @Test
    @Order(2)
    void aSubjectCannotBuyOffFivePointsByLookingLikeDebianMail() {
        String subject = "Debconf: " + UUID.randomUUID();
        MailClients.Swaks sent = MailClients.swaks(List.of("--server", SMTP + ":" + SMTP_PORT, "--to", ALICE,
                "--from", "bob@example.org", "--header", "Subject: " + subject, "--body", "Hi Alice"));
        assertThat(sent.exitCode()).as(sent.transcript()).isZero();
        String raw = new String(java.util.Base64.getDecoder().decode(message(fetch("INBOX"), subject).path("raw_b64").asText()),
                StandardCharsets.UTF_8);
        java.util.regex.Matcher score = java.util.regex.Pattern.compile("X-Spam-Status: \\w+, score=(-?[0-9.]+)").matcher(raw);
        assertThat(score.find()).as(raw).isTrue();
        assertThat(Double.parseDouble(score.group(1))).as("no D_SENT_BY_DEBCONF (-5.0)").isGreaterThan(-4.0);
    }

    @Test
    @Order(2)
    void foldersCarrySpecialUseAttributes() {
        JsonNode folders = fetch("INBOX").path("folders");
        assertThat(folders.path("Junk").asText()).contains("\\Junk");
        assertThat(folders.path("Sent").asText()).contains("\\Sent");
        assertThat(folders.path("Drafts").asText()).contains("\\Drafts");
        assertThat(folders.path("Trash").asText()).contains("\\Trash");
    }

    @Test
    @Order(3)
    void twentyMessagesWithBinaryAttachmentsArriveByteIdentical() {
        JsonNode sent = MailClients.python("send_attachments", Map.of("host", SMTP, "port", SMTP_PORT,
                "sender", "bob@example.org", "rcpt", ALICE, "count", 20, "size", 40_000));
        assertThat(sent.path("sent")).as(sent.toString()).hasSize(20);
        JsonNode inbox = fetch("INBOX");
        for (JsonNode s : sent.path("sent")) {
            assertThat(message(inbox, s.path("subject").asText()).path("body_sha256").asText())
                    .as(s.path("subject").asText()).isEqualTo(s.path("body_sha256").asText());
        }
    }

    @Test
    @Order(4)
    void unknownRecipientIsRefusedAtRcptWith550_5_1_1() {
        JsonNode r = send(List.of("nobody@" + DOMAIN), "to nobody", "bob@example.org");
        assertThat(r.path("stage").asText()).isEqualTo("rcpt");
        assertThat(r.path("refused").path("nobody@" + DOMAIN).get(0).asInt()).isEqualTo(550);
        assertThat(r.path("refused").path("nobody@" + DOMAIN).get(1).asText()).startsWith("5.1.1");
    }

    @Test
    @Order(5)
    void relayingToAnotherDomainIsDeniedWith550_5_7_1_EvenFromTheNullSender() {
        for (String sender : List.of("bob@example.org", "")) {
            JsonNode r = send(List.of("someone@elsewhere.example"), "relay", sender);
            assertThat(r.path("refused").path("someone@elsewhere.example").get(0).asInt()).isEqualTo(550);
            assertThat(r.path("refused").path("someone@elsewhere.example").get(1).asText()).startsWith("5.7.1");
        }
        JsonNode postmaster = send(List.of("postmaster@elsewhere.example"), "relay", "bob@example.org");
        assertThat(postmaster.path("refused").path("postmaster@elsewhere.example").get(0).asInt()).isEqualTo(550);
    }

    @Test
    @Order(6)
    void oversizeMessageGets552() {
        JsonNode r = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", "too big", "body_lines", 20_000));
        assertThat(r.path("ok").asBoolean()).isFalse();
        assertThat(r.path("code").asInt()).isEqualTo(552);
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(7)
    void gtubeIsFiledInJunk() {
        String subject = "gtube " + UUID.randomUUID();
        JsonNode r = send(List.of(ALICE), subject, "spammer@example.org",
                "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X");
        assertThat(r.path("ok").asBoolean()).as(r.toString()).isTrue();
        assertThat(message(fetch("Junk"), subject).path("spam").asText()).isEqualTo("YES");
        assertThat(fetch("INBOX").path("messages").toString()).doesNotContain(subject);
    }

    @Test
    @Order(8)
    void clientThatDisconnectsMidDataLeavesNothingAndTheServerCarriesOn() throws IOException {
        String marker = "partial-" + UUID.randomUUID();
        try (Socket s = new Socket(SMTP, SMTP_PORT)) {
            Conversation c = Conversation.transactionTo(s, ALICE);
            c.send("DATA").expect("354");
            c.raw("Subject: " + marker + "\r\n\r\nhalf of a message " + marker + "\r\n");
        }
        JsonNode after = send(List.of(ALICE), "after the disconnect", "bob@example.org");
        assertThat(after.path("ok").asBoolean()).as(after.toString()).isTrue();
        JsonNode found = MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker));
        // Every folder searched, and the marker in none of them (an empty answer would check nothing).
        assertThat(found.toString()).isEqualTo("{\"INBOX\":0,\"Junk\":0,\"Sent\":0,\"Drafts\":0,\"Trash\":0}");
    }

    @Test
    @Order(9)
    void malformedCommandsGet5xxAndTheSessionStaysUsable() throws IOException {
        try (Socket s = new Socket(SMTP, SMTP_PORT)) {
            Conversation c = new Conversation(s);
            c.expect("220");
            c.send("EHLO client.example").expect("250");
            c.send("FROBNICATE now").expect("500");
            c.send("MAIL FROM:<unterminated").expect("501");
            c.send("RCPT TO:<" + ALICE + ">").expect("503");
            c.send("MAIL FROM:<bob@example.org>").expect("250");
            c.send("RCPT TO:<" + ALICE + ">").expect("250");
            c.send("DATA").expect("354");
            c.raw("Subject: odd lines\r\n\r\nbare LF line\nthen a long one " + "y".repeat(1200) + "\r\n.\r\n");
            // A bare LF is taken as a line end of the same message (Postfix's default, "normalize").
            c.expect("250");
            c.send("NOOP").expect("250");
            c.send("QUIT").expect("221");
        }
    }

    @Test
    @Order(10)
    void idleSeesANewDelivery() {
        String subject = "idle " + UUID.randomUUID();
        ClientProcess idle = MailClients.startPython("idle", Map.of("host", IMAP, "port", IMAPS_PORT, "user", ALICE,
                "password", PASSWORD, "seconds", 60));
        // Send only once the server has accepted IDLE: a delivery before it would be missed, not seen.
        idle.awaitStderrLine("idling", Duration.ofSeconds(60));

        JsonNode sent = send(List.of(ALICE), subject, "bob@example.org");
        assertThat(sent.path("ok").asBoolean()).as(sent.toString()).isTrue();

        JsonNode seen = MailClients.finishPython(idle, "idle");
        assertThat(seen.path("exists").asText()).as(seen.toString()).matches("\\* [0-9]+ EXISTS");
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(11)
    void scannerThatCannotAnswerTempfailsAndTheRetryArrivesExactlyOnce() {
        String subject = "retry " + UUID.randomUUID();
        String messageId = "<" + UUID.randomUUID() + "@example.org>";
        // The scanner freezes (its sandbox host, and any sandbox it forks): the message's scan stays silent.
        List<String> scanners = runtime.containers(EngineFixture.roleLabels(state, APP, "spam")).stream()
                .filter(ContainerRuntime.ContainerInfo::running).map(ContainerRuntime.ContainerInfo::id).toList();
        assertThat(scanners).isNotEmpty();
        scanners.forEach(id -> engine.client().pauseContainerCmd(id).exec());
        JsonNode first;
        try {
            first = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                    "rcpts", List.of(ALICE), "subject", subject, "body", "retry me", "message_id", messageId));
        } finally {
            for (String id : scanners) {
                try {
                    engine.client().unpauseContainerCmd(id).exec();
                } catch (RuntimeException e) {
                    // Already gone (replaced by the supervisor): nothing left to thaw.
                }
            }
        }
        assertThat(first.path("ok").asBoolean()).isFalse();
        assertThat(first.path("code").asInt()).isEqualTo(451);
        assertThat(fetch("INBOX").path("messages").toString()).doesNotContain(subject);

        JsonNode retry = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", subject, "body", "retry me", "message_id", messageId));
        assertThat(retry.path("ok").asBoolean()).as(retry.toString()).isTrue();
        long copies = count(fetch("INBOX"), subject);
        assertThat(copies).isEqualTo(1);
    }

    @Test
    @Order(12)
    void newUserAndAliasWorkWithoutARestart() {
        String bob = "bob@" + DOMAIN;
        hearth.okWithInput("bobs-password-1\n", "mail", "--app", APP, "user", "add", bob);
        hearth.ok("mail", "--app", APP, "alias", "add", "postmaster@" + DOMAIN, bob);
        assertThat(hearth.ok("mail", "--app", APP, "user", "list").stdout()).contains(ALICE).contains(bob);

        assertThat(send(List.of(bob), "to bob", "carol@example.org").path("ok").asBoolean()).isTrue();
        assertThat(send(List.of("postmaster@" + DOMAIN), "to postmaster", "carol@example.org").path("ok").asBoolean()).isTrue();
        JsonNode bobs = MailClients.python("fetch", Map.of("host", IMAP, "port", IMAP_PORT, "user", bob,
                "password", "bobs-password-1", "folder", "INBOX"));
        assertThat(bobs.path("messages")).hasSize(2);
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(13)
    void messagesSurviveDownAndUp() {
        int before = fetch("INBOX").path("messages").size();
        hearth.ok("down");
        hearth.ok("up");
        awaitHealthy();
        assertThat(fetch("INBOX").path("messages").size()).isEqualTo(before);
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(14)
    void storeKilledMidTransactionGives451AndTheRetryArrivesExactlyOnce() throws IOException {
        String subject = "store-killed " + UUID.randomUUID();
        String message = "Subject: " + subject + "\r\nMessage-ID: <" + UUID.randomUUID() + "@example.org>\r\n\r\nagain\r\n";
        try (Socket s = new Socket(SMTP, SMTP_PORT)) {
            Conversation c = Conversation.transactionTo(s, ALICE);
            int restarts = restarts("imap");
            engine.client().killContainerCmd(container("imap").id()).exec();
            c.send("DATA").expect("354");
            c.raw(message + ".\r\n");
            assertThat(c.read()).startsWith("451");
            // The supervisor brings the store back; wait until it has and has checked it again.
            Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
            while (restarts("imap") == restarts) {
                if (Instant.now().isAfter(deadline)) {
                    throw new AssertionError("the supervisor did not restart the killed store within 3 minutes");
                }
                sleep(200);
            }
        }
        awaitHealthy();
        try (Socket s = new Socket(SMTP, SMTP_PORT)) {
            Conversation c = Conversation.transactionTo(s, ALICE);
            c.send("DATA").expect("354");
            c.raw(message + ".\r\n");
            assertThat(c.read()).startsWith("250");
        }
        assertThat(count(fetch("INBOX"), subject)).isEqualTo(1);
    }

    @Test
    @Order(15)
    void aMessageOverTheScanLimitIsDeliveredUnscannedAndSaysSo() {
        String subject = "large " + UUID.randomUUID();
        JsonNode sent = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", subject, "body_lines", 3000));
        assertThat(sent.path("ok").asBoolean()).as(sent.toString()).isTrue();
        JsonNode m = message(fetch("INBOX"), subject);
        assertThat(m.path("spam_status").asText()).isEqualTo("No, not scanned (over 200000 bytes)");
    }

    @Test
    @Order(16)
    void aBareLineEndCanNeverEndDataSoNoTransactionCanBeSmuggled() throws IOException {
        // The clean CRLF case last: one message carrying the commands as text, like every other.
        for (String end : List.of("\n.\r\n", "\n.\n", "\r.\r\n", "\r\n.\n", "\r.\r", "\r\n")) {
            String marker = "smuggled-" + UUID.randomUUID();
            String shown = end.replace("\r", "<CR>").replace("\n", "<LF>");
            try (Socket s = new Socket(SMTP, SMTP_PORT)) {
                Conversation c = Conversation.transactionTo(s, ALICE);
                c.send("DATA").expect("354");
                c.raw(smuggling(marker, end) + ".\r\n");
                assertThat(c.read()).as("reply for %s", shown).startsWith("250");
                // Nothing of the smuggled transaction was run: the next reply is QUIT's own.
                c.send("QUIT").expect("221");
            }
            assertThat(searchAll(marker)).as("messages holding %s", shown).containsEntry("INBOX", 1).containsEntry("Junk", 0);
            assertThat(count(fetch("INBOX"), "first " + marker)).as(shown).isEqualTo(1);
            assertThat(count(fetch("INBOX"), "second " + marker)).as(shown).isZero();
        }
    }

    /** A message whose body, after {@code end}, is a whole second transaction from someone else. */
    private static String smuggling(String marker, String end) {
        return "Subject: first " + marker + "\r\n\r\nbody " + marker + end
                + "MAIL FROM:<admin@" + DOMAIN + ">\r\nRCPT TO:<" + ALICE + ">\r\nDATA\r\n"
                + "From: admin@" + DOMAIN + "\r\nSubject: second " + marker + "\r\n\r\nsecond " + marker + "\r\n";
    }

    @Test
    @Order(17)
    void oversizeMailSentWithoutASizeParameterGets552AndTheSessionStaysUsable() throws IOException {
        String marker = "oversize-" + UUID.randomUUID();
        String subject = "after oversize " + marker;
        try (Socket s = new Socket(SMTP, SMTP_PORT)) {
            Conversation c = Conversation.transactionTo(s, ALICE);
            c.send("DATA").expect("354");
            c.raw("Subject: " + marker + "\r\n\r\n");
            String line = "x".repeat(998) + "\r\n";
            for (int sent = 0; sent < (1 << 20) + (64 << 10); sent += line.length()) {
                c.raw(line);
            }
            c.raw(".\r\n");
            c.expect("552 5.3.4");
            c.send("MAIL FROM:<bob@example.org>").expect("250");
            c.send("RCPT TO:<" + ALICE + ">").expect("250");
            c.send("DATA").expect("354");
            c.raw("Subject: " + subject + "\r\n\r\nsmall\r\n.\r\n");
            c.expect("250");
            c.send("QUIT").expect("221");
        }
        assertThat(count(fetch("INBOX"), subject)).isEqualTo(1);
        assertThat(count(fetch("INBOX"), marker) + count(fetch("Junk"), marker)).isZero();
    }

    @Test
    @Order(18)
    void aSenderRetryingAfterALost250GetsAnother250AndOneCopy() {
        String subject = "lost-250 " + UUID.randomUUID();
        String messageId = "<" + UUID.randomUUID() + "@example.org>";
        for (int attempt = 1; attempt <= 2; attempt++) {
            JsonNode r = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                    "rcpts", List.of(ALICE), "subject", subject, "body", "the same message", "message_id", messageId));
            assertThat(r.path("ok").asBoolean()).as("attempt %d: %s", attempt, r).isTrue();
        }
        assertThat(count(fetch("INBOX"), subject)).isEqualTo(1);
        // Without a Message-ID nothing tells a retry from a new message: both are kept.
        String plain = "no-id " + UUID.randomUUID();
        assertThat(send(List.of(ALICE), plain, "bob@example.org").path("ok").asBoolean()).isTrue();
        assertThat(send(List.of(ALICE), plain, "bob@example.org").path("ok").asBoolean()).isTrue();
        assertThat(count(fetch("INBOX"), plain)).isEqualTo(2);
    }

    @Test
    @Order(19)
    void aMessageTheStoreCanNeverStoreIsQuarantinedAfterFiveTriesAndShownInStatus() throws IOException {
        String messageId = "<poison-" + UUID.randomUUID() + "@example.org>";
        // James's mailbox keeps a MIME subtype in a 200-character column: this message fails its commit every time.
        String message = "Subject: poison\r\nMessage-ID: " + messageId + "\r\nContent-Type: text/" + "x".repeat(300)
                + "\r\n\r\ncannot be stored\r\n.\r\n";
        List<String> replies = new ArrayList<>();
        for (int attempt = 1; attempt <= 5; attempt++) {
            try (Socket s = new Socket(SMTP, SMTP_PORT)) {
                Conversation c = Conversation.transactionTo(s, ALICE);
                c.send("DATA").expect("354");
                c.raw(message);
                replies.add(c.read());
            }
        }
        assertThat(replies.subList(0, 4)).allSatisfy(r -> assertThat(r).startsWith("451"));
        // Kept for the owner on the encrypted volume: the sender may stop retrying.
        assertThat(replies.get(4)).startsWith("250");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        String quarantine = "";
        while (!quarantine.contains(messageId) && Instant.now().isBefore(deadline)) {
            sleep(500);
            JsonNode status = MailClients.json(hearth.ok("status", "--json").stdout());
            for (JsonNode app : status.path("apps")) {
                if (app.path("app").asText().equals(APP)) {
                    quarantine = app.path("quarantine").toString();
                }
            }
        }
        assertThat(quarantine).contains(messageId).contains("\"failures\":\"5\"").contains(ALICE);
        assertThat(hearth.ok("status").stdout()).contains("quarantine 1 item(s)").contains(messageId);
    }

    /**
     * A scanner idle for its HEARTH_UNLOAD_SECONDS (30 minutes as shipped, 5 s here) sheds its compiled
     * rules, and the next messages wait while it compiles them again: spam still goes to Junk, the
     * rest to the INBOX.
     */
    @Test
    @Order(20)
    void aScannerThatShedItsRulesWhileIdleCompilesThemAgainForTheNextMessage() throws Exception {
        Path shipped = state.resolve("mail-test.yaml");
        String text = Files.readString(shipped);
        assertThat(text).contains("HEARTH_UNLOAD_SECONDS: \"1800\"");
        Path quick = state.resolve("mail-test-unload.yaml");
        Files.writeString(quick, text.replace("HEARTH_UNLOAD_SECONDS: \"1800\"", "HEARTH_UNLOAD_SECONDS: \"5\""));
        hearth.ok("app", "install", quick.toString(), "--timeout", "300");
        try {
            String scanner = runtime.containers(EngineFixture.roleLabels(state, APP, "spam")).stream()
                    .filter(ContainerRuntime.ContainerInfo::running).map(ContainerRuntime.ContainerInfo::id).findFirst().orElseThrow();
            Await.until(Duration.ofSeconds(60), () -> "the scanner said: " + runtime.logsSince(scanner, Instant.EPOCH),
                    () -> Optional.of(scanner).filter(id -> runtime.logsSince(id, Instant.EPOCH).contains("event=unloaded")));

            String spam = "unloaded gtube " + UUID.randomUUID();
            JsonNode r = send(List.of(ALICE), spam, "spammer@example.org",
                    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X");
            assertThat(r.path("ok").asBoolean()).as(r.toString()).isTrue();
            String ham = "unloaded ham " + UUID.randomUUID();
            assertThat(send(List.of(ALICE), ham, "bob@example.org").path("ok").asBoolean()).isTrue();

            assertThat(message(fetch("Junk"), spam).path("spam").asText()).isEqualTo("YES");
            assertThat(message(fetch("INBOX"), ham).path("spam").asText()).isEqualTo("NO");
            assertThat(runtime.logsSince(scanner, Instant.EPOCH)).contains("event=prepared");
        } finally {
            hearth.ok("app", "install", shipped.toString(), "--timeout", "300");
        }
    }

    /**
     * The owner upgrades the mail app (every container's spec changes, and a migration runs on the
     * store's volumes) while a sender keeps sending: every message already stored is still there,
     * byte for byte; every 250 the sender got is in the mailbox exactly once; nothing got a 5xx, and
     * what got a 4xx arrives when the sender retries.
     */
    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(21)
    void anUpgradeKeepsEveryMessageAndLosesNoneSentWhileItRuns() throws Exception {
        java.util.Set<String> before = rawMessages();
        Path next = state.resolve("mail-test-next.yaml");
        Files.writeString(next, Files.readString(state.resolve("mail-test.yaml")).replaceFirst("(?m)^version: .*$", "version: 99.0.0")
                .replace("      MAIL_HOSTNAME: ", "      HEARTH_TEST_RELEASE: \"99\"\n      MAIL_HOSTNAME: ")
                + "migrate:\n  container: imap\n  command: [java, -version]\n");
        // Since the restart above the volumes are open but the key is not held: an upgrade closes and
        // reopens them, so it asks for the passphrase first (it said "storage is locked (run: hearth unlock)").
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        String marker = "upgrade-" + UUID.randomUUID();
        // The sender is seen to be accepted before the upgrade starts and keeps sending until it has
        // ended, however long the engine takes to stop, copy and start the app.
        Path upgradeEnded = state.resolve("upgrade-ended-" + marker);
        ClientProcess sender = MailClients.startPython("trickle", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpt", ALICE, "marker", marker, "stop_file", upgradeEnded.toString(), "seconds", 300));
        sender.awaitStderrLine("accepted", Duration.ofSeconds(60));
        String upgraded;
        try {
            upgraded = hearth.ok("app", "upgrade", next.toString(), "--timeout", "240").stdout();
        } finally {
            Files.writeString(upgradeEnded, "");
        }
        List<String> codes = new ArrayList<>();
        MailClients.finishPython(sender, "trickle").path("codes").forEach(c -> codes.add(c.asText()));

        assertThat(upgraded).contains("upgraded " + APP + " from ").contains(" to 99.0.0");
        System.out.println("replies to the sender during the upgrade: " + codes);
        assertThat(codes).as("what the sender was told").contains("250").noneMatch(c -> c.startsWith("5"));
        awaitHealthy();
        for (int i = 0; i < codes.size(); i++) {
            if (!codes.get(i).equals("250")) {
                // What a sending server does with a 4xx or a broken connection: it tries again.
                assertThat(send(List.of(ALICE), marker + " " + i, "bob@example.org").path("ok").asBoolean()).as("retry of " + i).isTrue();
            }
        }
        JsonNode inbox = fetch("INBOX");
        JsonNode junk = fetch("Junk");
        for (int i = 0; i < codes.size(); i++) {
            String subject = marker + " " + i;
            assertThat(count(inbox, subject) + count(junk, subject)).as(subject + " (first told " + codes.get(i) + ")").isEqualTo(1);
        }
        assertThat(rawMessages()).as("every message stored before the upgrade, byte for byte").containsAll(before);
    }

    // --- helpers ---

    /** Every message in Alice's inbox and junk folder, as its raw bytes (Base64). */
    private static java.util.Set<String> rawMessages() {
        java.util.Set<String> raw = new java.util.HashSet<>();
        for (String folder : List.of("INBOX", "Junk")) {
            fetch(folder).path("messages").forEach(m -> raw.add(m.path("message_id").asText() + "/" + m.path("body_sha256").asText()));
        }
        return raw;
    }

    /** Hits of {@code marker} in the text of every folder of Alice's. */
    private static Map<String, Integer> searchAll(String marker) {
        JsonNode found = MailClients.python("search", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "marker", marker));
        Map<String, Integer> hits = new java.util.TreeMap<>();
        found.fields().forEachRemaining(f -> hits.put(f.getKey(), f.getValue().asInt()));
        assertThat(hits).containsKeys("INBOX", "Junk");
        return hits;
    }

    private static JsonNode send(List<String> rcpts, String subject, String sender) {
        return send(rcpts, subject, sender, "Hello from the tests.");
    }

    private static JsonNode send(List<String> rcpts, String subject, String sender, String body) {
        return MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", sender,
                "rcpts", rcpts, "subject", subject, "body", body));
    }

    private static JsonNode fetch(String folder) {
        return MailClients.python("fetch", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "folder", folder));
    }

    private static JsonNode message(JsonNode folder, String subject) {
        for (JsonNode m : folder.path("messages")) {
            if (m.path("subject").asText().equals(subject)) {
                return m;
            }
        }
        throw new AssertionError("no message \"" + subject + "\" in " + folder.path("messages").size() + " messages");
    }

    private static long count(JsonNode folder, String subject) {
        long n = 0;
        for (JsonNode m : folder.path("messages")) {
            n += m.path("subject").asText().equals(subject) ? 1 : 0;
        }
        return n;
    }

    private static ContainerRuntime.ContainerInfo container(String role) {
        return runtime.containers(EngineFixture.roleLabels(state, APP, role)).stream()
                .filter(ContainerRuntime.ContainerInfo::running).findFirst()
                .orElseThrow(() -> new AssertionError("no running " + role));
    }

    private static int restarts(String role) {
        JsonNode status = MailClients.json(hearth.ok("status", "--json").stdout());
        for (JsonNode app : status.path("apps")) {
            for (JsonNode c : app.path("containers")) {
                if (app.path("app").asText().equals(APP) && c.path("name").asText().equals(role)) {
                    return c.path("restarts").asInt();
                }
            }
        }
        throw new AssertionError("no " + role + " in status");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    private static void awaitHealthy() {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (Instant.now().isBefore(deadline)) {
            if (hearth.ok("status").stdout().matches("(?s).*app " + APP + " \\S+ +healthy.*")) {
                return;
            }
            sleep(500);
        }
        throw new AssertionError("the mail app is not healthy again: " + hearth.run("status").stdout());
    }

    /** A raw SMTP conversation, for what client libraries will not do (hang up mid-DATA, send garbage). */
    private static final class Conversation {
        private final BufferedReader in;
        private final OutputStream out;

        /** Greeting, EHLO, MAIL and RCPT done: ready for DATA. */
        static Conversation transactionTo(Socket s, String rcpt) throws IOException {
            Conversation c = new Conversation(s);
            c.expect("220");
            c.send("EHLO client.example").expect("250");
            c.send("MAIL FROM:<bob@example.org>").expect("250");
            c.send("RCPT TO:<" + rcpt + ">").expect("250");
            return c;
        }

        Conversation(Socket s) throws IOException {
            s.setSoTimeout(60_000);
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            out = s.getOutputStream();
        }

        Conversation send(String line) throws IOException {
            raw(line + "\r\n");
            return this;
        }

        void raw(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /** The last line of the next (possibly multi-line) reply. */
        String read() throws IOException {
            List<String> lines = new ArrayList<>();
            String line;
            do {
                line = in.readLine();
                if (line == null) {
                    throw new IOException("connection closed after " + lines);
                }
                lines.add(line);
            } while (line.length() > 3 && line.charAt(3) == '-');
            return line;
        }

        Conversation expect(String code) throws IOException {
            String reply = read();
            assertThat(reply).startsWith(code);
            return this;
        }
    }
}
