package org.hearth.mail.inbound;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real smtp-in (its handler under the sandbox host) against a recording LMTP peer, driven by a raw socket client: only
 * CRLF.CRLF ends DATA, bare CR or LF never splits a message into two transactions, the store never
 * sees a second smuggled transaction, and oversize mail is refused for good without reaching the store.
 */
class InboundSmtpFramingTest {

    private static final long MAX_SIZE = 100_000;

    private RunningSmtp running;
    private RecordingLmtpServer store;
    private int port;

    @BeforeEach
    void start() throws Exception {
        running = new RunningSmtp(MAX_SIZE, false);
        store = running.store;
        port = running.port;
    }

    @AfterEach
    void stop() throws Exception {
        running.close();
    }

    @ParameterizedTest(name = "end sequence {0}")
    @ValueSource(strings = {"<LF>.<CRLF>", "<LF>.<LF>", "<CR>.<CRLF>", "<CRLF>.<LF>", "<CR>.<CR>", "<LF>.<CR>"})
    void bareLineEndsNeverEndDataSoTheSmuggledCommandsStayTextOfOneMessage(String name) throws Exception {
        String sequence = name.replace("<CRLF>", "\r\n").replace("<LF>", "\n").replace("<CR>", "\r");
        try (SmtpWire wire = new SmtpWire(port)) {
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO client.test")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            wire.write("From: alice@sender.test\r\nSubject: one\r\n\r\nfirst" + sequence
                    + "MAIL FROM:<admin@hearth.test>\r\nRCPT TO:<bob@hearth.test>\r\nDATA\r\n"
                    + "From: admin@hearth.test\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n");

            assertThat(wire.reply()).startsWith("250");
            // In sync: the next reply answers QUIT, not a smuggled command.
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.commands()).noneMatch(c -> c.contains("admin@hearth.test")).containsOnlyOnce("DATA");
        // One message; its lone "." is text (stuffed towards the store), the smuggled commands its body.
        assertThat(store.messages()).singleElement().asString()
                .contains("\r\nfirst\r\n..\r\nMAIL FROM:<admin@hearth.test>\r\nRCPT TO:<bob@hearth.test>\r\nDATA\r\n")
                .endsWith("Subject: smuggled\r\n\r\nsecond\r\n");
        // Every line the store got ends in CRLF: no CR or LF reaches it but as a pair (its decoder ends lines at any LF).
        assertThat(store.awaitQuit().raw().get(0).replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
    }

    @Test
    void lfOnlyMailFromScriptsIsStoredWithCrlfAndItsStuffedDotsUnstuffedOnce() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            wire.command("EHLO client.test");
            wire.command("MAIL FROM:<cron@sender.test>");
            wire.command("RCPT TO:<bob@hearth.test>");
            assertThat(wire.command("DATA")).startsWith("354");
            // What Python's smtplib sends for an email.message as bytes: LF line ends, dots stuffed after every LF.
            wire.write("Subject: nightly\n\n..hidden file\nplain\n\r\n.\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.messages()).singleElement().asString()
                .endsWith("Subject: nightly\r\n\r\n..hidden file\r\nplain\r\n\r\n").doesNotContain("...hidden");
    }

    @Test
    void aSmuggledTransactionNeverReachesTheStoreEvenWhenTheFirstMessageIsFine() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            openMessage(wire);
            wire.write("Subject: one\r\n\r\nfirst\n.\r\nMAIL FROM:<admin@hearth.test>\r\nRCPT TO:<carol@hearth.test>\r\n"
                    + "DATA\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n");
            String reply = wire.reply();
            wire.write("QUIT\r\n");
            assertThat(reply + "\n" + wire.rest()).doesNotContain("354").doesNotContain("2.1.0");
        }
        assertThat(store.commands()).noneMatch(c -> c.contains("admin@hearth.test") || c.contains("carol@hearth.test"));
    }

    @Test
    void aCleanMessageIsStoredOnceWithDotLinesIntactAndStuffedTowardsTheStore() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            openMessage(wire);
            wire.write("Subject: dots\r\n\r\n..leading dot\r\n...\r\n..\r\nend\r\n.\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.messages()).hasSize(1);
        assertThat(store.messages().get(0)).endsWith("Subject: dots\r\n\r\n..leading dot\r\n...\r\n..\r\nend\r\n")
                .as("a direct connection names its peer").startsWith("Received: from client.test ([127.0.0.1])");
    }

    @Test
    void pipelinedCommandsAndATransactionPipelinedAfterDataStillWork() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            assertThat(wire.command("EHLO client.test")).contains("PIPELINING");
            wire.write("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@hearth.test>\r\nRCPT TO:<carol@hearth.test>\r\nDATA\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("354");
            wire.write("Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@hearth.test>\r\nDATA\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("354");
            wire.write("Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.reply()).startsWith("221");
        }
        assertThat(store.messages()).hasSize(2);
        assertThat(store.messages().get(0)).endsWith("Subject: one\r\n\r\nfirst\r\n");
        assertThat(store.messages().get(1)).endsWith("Subject: two\r\n\r\nsecond\r\n");
    }

    @Test
    void commandsAndTheEndOfDataSplitAcrossWritesStillWork() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            wire.command("EHLO client.test");
            wire.write("MAIL FR");
            Thread.sleep(100);
            wire.write("OM:<alice@sender.test>\r");
            Thread.sleep(100);
            assertThat(wire.write("\n").reply()).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            wire.write("Subject: split\r\n\r\nbody\r");
            Thread.sleep(100);
            wire.write("\n.");
            Thread.sleep(100);
            wire.write("\r");
            Thread.sleep(100);
            assertThat(wire.write("\n").reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.messages()).hasSize(1);
        assertThat(store.messages().get(0)).endsWith("Subject: split\r\n\r\nbody\r\n");
    }

    @Test
    void oversizeMailWithoutASizeParameterIsRefusedForGoodAndTheSessionStaysUsable() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            openMessage(wire);
            String line = "x".repeat(998) + "\r\n";
            StringBuilder body = new StringBuilder("Subject: big\r\n\r\n");
            while (body.length() < MAX_SIZE + 64 * 1024) {
                body.append(line);
            }
            wire.write(body + ".\r\n");
            assertThat(wire.reply()).startsWith("552 5.3.4");

            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            assertThat(wire.write("Subject: small\r\n\r\nfits\r\n.\r\n").reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.messages()).hasSize(1);
        assertThat(store.messages().get(0)).endsWith("Subject: small\r\n\r\nfits\r\n");
        assertThat(store.commands()).containsSubsequence("RCPT TO:<bob@hearth.test>", "RSET", "MAIL FROM:<alice@sender.test>");
        assertThat(store.dataCommands()).isEqualTo(1);
    }

    @Test
    void theSizeLimitCountsTheReceivedFieldAsTheStoreDoes() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            openMessage(wire);
            // Fits by itself, not with the Received field this server puts on top (the store would refuse it).
            String body = "Subject: nearly\r\n\r\n" + "y".repeat((int) MAX_SIZE - 60 - "Subject: nearly\r\n\r\n\r\n".length()) + "\r\n";
            assertThat(wire.write(body + ".\r\n").reply()).startsWith("552 5.3.4");
        }
        assertThat(store.dataCommands()).isZero();
    }

    @Test
    void unknownMailParametersAreRefusedNotIgnored() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            wire.command("EHLO client.test");
            assertThat(wire.command("MAIL FROM:<alice@sender.test> RET=HDRS")).startsWith("555 5.5.4");
            assertThat(wire.command("MAIL FROM:<alice@sender.test> BODY=8BITMIME")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test> NOTIFY=NEVER")).startsWith("555 5.5.4");
        }
    }

    /**
     * RFC 6531: SMTPUTF8 is offered; a non-ASCII address is taken only in a transaction that declared
     * it, and only as UTF-8; the store gets the declaration and the bytes as they came.
     */
    @Test
    void nonAsciiAddressesNeedSmtputf8AndReachTheStoreByteForByte() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            assertThat(wire.command("EHLO client.test")).contains("SMTPUTF8");
            assertThat(wire.command(utf8("MAIL FROM:<müller@sender.test>"))).startsWith("553 5.6.7");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command(utf8("RCPT TO:<jörg@hearth.test>"))).startsWith("553 5.6.7");
            assertThat(wire.command("RSET")).startsWith("250");
            // A Latin-1 "ü" is one byte that is no UTF-8.
            assertThat(wire.command("MAIL FROM:<m\u00fcller@sender.test> SMTPUTF8")).startsWith("553 5.1.7").contains("not valid UTF-8");
            assertThat(wire.command(utf8("MAIL FROM:<müller@sender.test> SMTPUTF8"))).startsWith("250");
            assertThat(wire.command(utf8("RCPT TO:<jörg@hearth.test>"))).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            assertThat(wire.write(utf8("From: Müller <müller@sender.test>\r\nSubject: Grüße\r\n\r\nHallo\r\n.\r\n")).reply())
                    .startsWith("250");
        }
        assertThat(store.commands()).contains(utf8("MAIL FROM:<müller@sender.test> SMTPUTF8"), utf8("RCPT TO:<jörg@hearth.test>"));
        String stored = new String(store.messages().get(0).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        assertThat(stored).contains(" with UTF8SMTP id ", "\tfor <jörg@hearth.test>;")
                .endsWith("From: Müller <müller@sender.test>\r\nSubject: Grüße\r\n\r\nHallo\r\n");
    }

    /** Text whose UTF-8 bytes SmtpWire writes as they are (it writes each char as one byte). */
    private static String utf8(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Test
    void aRecipientDeferredByTheStoreDefersTheMessageEvenWhenAnotherIsRefused() throws Exception {
        try (RunningSmtp mixed = new RunningSmtp(new RecordingLmtpServer(List.of("550 5.2.2 Mailbox full", "451 4.3.0 Later")),
                MAX_SIZE, false, java.util.Map.of()); SmtpWire wire = new SmtpWire(mixed.port)) {
            wire.reply();
            wire.command("EHLO client.test");
            wire.command("MAIL FROM:<alice@sender.test>");
            wire.command("RCPT TO:<bob@hearth.test>");
            wire.command("RCPT TO:<carol@hearth.test>");
            assertThat(wire.command("DATA")).startsWith("354");
            // A 550 would bounce carol's copy too; a 451 lets the sender try both again.
            assertThat(wire.write("Subject: two\r\n\r\nhi\r\n.\r\n").reply()).startsWith("451 4.3.0");
        }
    }

    @Test
    void oversizeMailAnnouncedWithSizeIsRefusedAtMailFrom() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            wire.command("EHLO client.test");
            assertThat(wire.command("MAIL FROM:<alice@sender.test> SIZE=" + (MAX_SIZE + 64 * 1024))).startsWith("552 5.3.4");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.commands()).noneMatch(c -> c.startsWith("MAIL"));
    }

    @Test
    void startTlsWithCommandsPipelinedBehindItIsStillRefused() throws Exception {
        try (SmtpWire wire = new SmtpWire(port)) {
            wire.reply();
            assertThat(wire.command("EHLO client.test")).contains("STARTTLS");
            wire.write("STARTTLS\r\nMAIL FROM:<alice@sender.test>\r\n");
            String rest = wire.reply() + "\n" + wire.rest();
            assertThat(rest).doesNotStartWith("220").doesNotContain("2.1.0").doesNotContain("<still open>");
        }
        assertThat(store.commands()).isEmpty();
    }

    /** Greeting, EHLO, one sender and recipient, and DATA accepted: the client may write the message. */
    private static void openMessage(SmtpWire wire) throws java.io.IOException {
        assertThat(wire.reply()).startsWith("220");
        assertThat(wire.command("EHLO client.test")).startsWith("250");
        assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
        assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
        assertThat(wire.command("DATA")).startsWith("354");
    }
}
