package org.hearth.mail.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * EXPUNGE through the keyed deletes, on the real IMAP server over the JPA store in this JVM: exactly
 * the messages marked \Deleted go, with their flags, in one mailbox only; the others keep their
 * bytes and flags, and UIDs are never reused. (What it is for, the time: docs/benchmarks.md.)
 */
class KeyedDeletesTest {

    private static final String OTHER = "b@d.example";

    @TempDir
    static Path data;
    private static InProcessImap store;

    @BeforeAll
    static void startServer() throws Exception {
        store = new InProcessImap(data);
        store.mailboxes.provision(OTHER);
        for (int i = 1; i <= 12; i++) {
            store.mailboxes.deliver(InProcessImap.USER, Mailboxes.INBOX, message(i));
            store.mailboxes.deliver(OTHER, Mailboxes.INBOX, message(i));
        }
    }

    @AfterAll
    static void stopServer() {
        store.close();
    }

    private static byte[] message(int i) {
        return ("Subject: message " + i + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody " + i + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> uidsAndFlags(RawImapClient client, String tag) throws Exception {
        client.write(tag + " UID FETCH 1:* (FLAGS)\r\n");
        List<String> lines = client.readUntilTagged(tag);
        assertThat(lines.get(0)).startsWith(tag + " OK");
        return lines.stream().filter(l -> l.startsWith("* ")).map(l -> l.replaceAll("^\\* \\d+ FETCH ", ""))
                .sorted().collect(Collectors.toList());
    }

    private static long uid(String fetched) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("UID (\\d+)\\b").matcher(fetched);
        assertThat(m.find()).as(fetched).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void expungeRemovesExactlyTheDeletedMessagesOfThatMailboxWithTheirFlags() throws Exception {
        try (RawImapClient alice = RawImapClient.tls(store.implicitTls);
             RawImapClient bob = RawImapClient.tls(store.implicitTls)) {
            alice.login(InProcessImap.USER, InProcessImap.PASSWORD);
            bob.login(OTHER, InProcessImap.PASSWORD);
            bob.write("b1 SELECT INBOX\r\n");
            bob.readUntilTagged("b1");
            List<String> bobBefore = uidsAndFlags(bob, "b2");
            alice.write("a1 SELECT INBOX\r\n");
            alice.readUntilTagged("a1");
            // Scattered and consecutive UIDs (several ranges), and kept messages with a keyword and \Seen.
            alice.write("a2 UID STORE 2,5:7,12 +FLAGS.SILENT (\\Deleted $Label1)\r\n");
            alice.readUntilTagged("a2");
            alice.write("a3 UID STORE 3,8 +FLAGS.SILENT ($Label1 \\Seen)\r\n");
            alice.readUntilTagged("a3");

            alice.write("a4 EXPUNGE\r\n");
            List<String> expunged = alice.readUntilTagged("a4");

            assertThat(expunged.get(0)).startsWith("a4 OK");
            assertThat(expunged.stream().filter(l -> l.endsWith(" EXPUNGE"))).hasSize(5);
            List<String> kept = uidsAndFlags(alice, "a5");
            assertThat(kept).hasSize(7);
            assertThat(kept.stream().map(KeyedDeletesTest::uid).sorted()).containsExactly(1L, 3L, 4L, 8L, 9L, 10L, 11L);
            assertThat(kept).filteredOn(l -> uid(l) == 3 || uid(l) == 8).hasSize(2)
                    .allSatisfy(l -> assertThat(l).contains("$Label1").contains("\\Seen"));
            assertThat(kept).filteredOn(l -> uid(l) == 4).singleElement().satisfies(l -> assertThat(l).doesNotContain("$Label1"));
            alice.write("a7 UID FETCH 11 BODY.PEEK[TEXT]\r\n");
            assertThat(alice.readUntilTagged("a7")).anyMatch(l -> l.contains("{9}body 11"));
            assertThat(uidsAndFlags(bob, "b3")).as("another user's mailbox with the same UIDs").isEqualTo(bobBefore);

            store.mailboxes.deliver(InProcessImap.USER, Mailboxes.INBOX, message(13));
            alice.write("a6 UID SEARCH ALL\r\n");
            List<String> all = alice.readUntilTagged("a6");
            assertThat(all).anyMatch(l -> l.equals("* SEARCH " + LongStream.of(1, 3, 4, 8, 9, 10, 11, 13)
                    .mapToObj(Long::toString).collect(Collectors.joining(" "))));
        }
    }
}
