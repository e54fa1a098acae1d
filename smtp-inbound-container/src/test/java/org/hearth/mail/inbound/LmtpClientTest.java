package org.hearth.mail.inbound;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's framing against a recording LMTP peer on loopback that frames like the store
 * (James's decoder: a line ends at any LF). Assertions are on the raw bytes the peer received, so a
 * wrong line end or an unstuffed dot fails here (the real store is exercised end to end in tests/).
 */
class LmtpClientTest {

    @Test
    void sendsOnlyCrlfLinesWithEveryLeadingDotStuffedAndReadsOneReplyPerRecipient() throws Exception {
        try (RecordingLmtpServer store = new RecordingLmtpServer(List.of("250 2.0.0 ok a", "452 4.2.2 full b"))) {
            try (LmtpClient client = new LmtpClient(store.address(), "mx.test", 5000)) {
                assertThat(client.mailFrom("").positive()).isTrue();
                assertThat(client.rcptTo("a@test").positive()).isTrue();
                assertThat(client.rcptTo("b@test").positive()).isTrue();
                List<LmtpClient.Reply> replies = client.data(bytes(".leading dot\nbare LF\r\n..two dots\r\nno final newline"), 2);
                assertThat(replies).containsExactly(new LmtpClient.Reply(250, "2.0.0 ok a"),
                        new LmtpClient.Reply(452, "4.2.2 full b"));
            }
            assertThat(store.awaitQuit().raw()).containsExactly("LHLO mx.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@test>\r\nRCPT TO:<b@test>\r\n"
                    + "DATA\r\n..leading dot\r\nbare LF\r\n...two dots\r\nno final newline\r\n.\r\nQUIT\r\n");
        }
    }

    @Test
    void noBareLineEndInAMessageCanEndDataOrStartACommandAtTheStore() throws Exception {
        String smuggled = "MAIL FROM:<admin@hearth.test>\r\nRCPT TO:<bob@hearth.test>\r\nDATA\r\nsecond\r\n";
        String message = "first\n.\r\n" + smuggled + "a\n.\nb\r.\r\nc\r\n.\nd\r.\re\n.x\nf\r";
        try (RecordingLmtpServer store = new RecordingLmtpServer()) {
            try (LmtpClient client = new LmtpClient(store.address(), "mx.test", 5000)) {
                client.mailFrom("alice@sender.test");
                client.rcptTo("bob@hearth.test");
                assertThat(client.data(bytes(message), 1)).extracting(LmtpClient.Reply::code).containsExactly(250);
            }
            assertThat(store.awaitQuit().messages()).containsExactly("first\r\n..\r\n" + smuggled
                    + "a\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..x\r\nf\r\n");
            assertThat(store.commands()).containsExactly("LHLO mx.test", "MAIL FROM:<alice@sender.test>",
                    "RCPT TO:<bob@hearth.test>", "DATA", "QUIT");
            // Every line the store got ends in CRLF: no CR or LF appears but as a pair.
            assertThat(store.raw().get(0).replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        }
    }

    private static ByteArrayInputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
