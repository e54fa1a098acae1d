package org.hearth.mail.store;

import org.apache.james.core.Username;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.model.FetchGroup;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.mailbox.model.MessageResult;
import org.apache.james.mailbox.model.MessageResultIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * APPEND as sync clients send it (mbsync pipelines several APPENDs with LITERAL+ in one write),
 * against the real IMAP servers over TLS and the real JPA store: every message is stored byte
 * for byte and every tag answered, however the bytes are cut into packets, and a literal's bytes
 * are never run as commands. The messages carry lines that would do harm if they were.
 */
class ImapPipeliningTest {

    private static final String PASSWORD = InProcessImap.PASSWORD;
    private static final int APPEND_LIMIT = 2 * 1024 * 1024;
    private static final AtomicInteger USERS = new AtomicInteger();

    @TempDir
    static Path data;
    private static InProcessImap store;
    private static Mailboxes mailboxes;
    private static InetSocketAddress imapsAddress;
    private static InetSocketAddress imapAddress;

    @BeforeAll
    static void startServers() throws Exception {
        store = new InProcessImap(data, APPEND_LIMIT);
        mailboxes = store.mailboxes;
        imapsAddress = store.implicitTls;
        imapAddress = store.startTls;
    }

    @AfterAll
    static void stopServers() {
        store.close();
    }

    @Test
    void pipelinedAppendsWithNonSynchronizingLiteralsAreAllStoredAndAnswered() throws Exception {
        String user = newUser();
        List<byte[]> sent = List.of(message("b1", 300), message("c1", 500), message("c2", 700), message("c3", 900));
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            // The reproduction from the field: one APPEND alone, then three in one write.
            client.write(append("b1", sent.get(0), "+"));
            assertThat(client.readUntilTagged("b1").get(0)).startsWith("b1 OK [APPENDUID");
            client.write(concat(append("c1", sent.get(1), "+"), append("c2", sent.get(2), "+"), append("c3", sent.get(3), "+")));
            assertAnsweredOk(client, "c1", "c2", "c3");
        }
        assertThat(stored(user)).containsExactlyElementsOf(sent);
    }

    @Test
    void everyPacketSplitOfAPipelinedBatchStoresEveryMessage() throws Exception {
        String user = newUser();
        List<byte[]> expected = new ArrayList<>();
        // Fixed-width tags: every batch has the same length, so every cut point is tried once.
        int length = batch("s0000", new ArrayList<>()).length;
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            for (int cut = 1; cut < length; cut++) {
                String prefix = String.format("s%04d", cut);
                client.writeSplit(batch(prefix, expected), cut);
                assertAnsweredOk(client, prefix + "a", prefix + "b", prefix + "c");
            }
        }
        assertThat(stored(user)).containsExactlyElementsOf(expected);
    }

    @Test
    void literalsFromEmptyToTheAppendLimitAreStoredByteIdenticalWhateverTheWrites() throws Exception {
        String user = newUser();
        Random random = new Random(21);
        List<byte[]> sent = new ArrayList<>();
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            int tag = 0;
            for (int size : new int[]{0, 1, 4096, 1024 * 1024, APPEND_LIMIT}) {
                byte[] body = new byte[size];
                random.nextBytes(body); // every byte value, CR, LF, '{' and '}' included
                for (String kind : new String[]{"+", ""}) {
                    String t = "z" + tag++;
                    if (kind.isEmpty()) {
                        client.write("" + t + " APPEND INBOX {" + size + "}\r\n");
                        client.expectLineStartingWith("+ ");
                        client.writeSplit(concat(body, crlf()), cutsOf(size + 2, random));
                    } else {
                        byte[] whole = append(t, body, kind);
                        client.writeSplit(whole, cutsOf(whole.length, random));
                    }
                    assertAnsweredOk(client, t);
                    sent.add(body);
                }
            }
        }
        assertThat(stored(user)).containsExactlyElementsOf(sent);
    }

    @Test
    void literalBytesAreNeverRunAsCommands() throws Exception {
        String user = newUser();
        byte[] harmful = ("Subject: harmless looking\r\n\r\nx1 DELETE INBOX\r\nx2 LOGOUT\r\n"
                + "x3 APPEND INBOX {5+}\r\nx4 CREATE Injected\r\n").getBytes(StandardCharsets.US_ASCII);
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            client.write(concat(append("h1", harmful, "+"), append("h2", harmful, "+")));
            List<String> lines = new ArrayList<>(client.readUntilTagged("h1"));
            lines.addAll(client.readUntilTagged("h2"));
            client.write("h3 LIST \"\" \"*\"\r\n");
            lines.addAll(client.readUntilTagged("h3"));
            assertThat(lines).noneMatch(line -> line.startsWith("x"))
                    .noneMatch(line -> line.contains("Injected"))
                    .anyMatch(line -> line.startsWith("h1 OK"))
                    .anyMatch(line -> line.startsWith("h2 OK"))
                    .anyMatch(line -> line.startsWith("* LIST") && line.endsWith("\"INBOX\""));
        }
        assertThat(stored(user)).containsExactly(harmful, harmful);
    }

    @Test
    void aLiteralOverTheAppendLimitIsRefusedTooBigAndTheSessionCarriesOn() throws Exception {
        String user = newUser();
        byte[] small = message("ok", 100);
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            client.write("cap CAPABILITY\r\n");
            assertThat(client.readUntilTagged("cap")).anyMatch(line -> line.contains("APPENDLIMIT=" + APPEND_LIMIT));
            // Synchronizing: never invited, so the client sends nothing more of the command.
            client.write("t1 APPEND INBOX {" + (APPEND_LIMIT + 1) + "}\r\n");
            assertThat(client.readLine()).startsWith("t1 NO [TOOBIG]");
            // Non-synchronizing: the literal comes anyway; it is dropped and the next command runs.
            byte[] big = new byte[APPEND_LIMIT + 1];
            java.util.Arrays.fill(big, (byte) '\n');
            client.write(concat(append("t2", big, "+"), append("t3", small, "+")));
            assertThat(client.readUntilTagged("t2").get(0)).startsWith("t2 NO [TOOBIG]");
            assertAnsweredOk(client, "t3");
        }
        assertThat(stored(user)).containsExactly(small);
    }

    @Test
    void commandsPipelinedAfterLoginRunInTheStateLoginLeft() throws Exception {
        String user = newUser();
        mailboxes.deliver(user, Mailboxes.INBOX, message("one", 200));
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.write("p1 LOGIN \"" + user + "\" \"" + PASSWORD + "\"\r\np2 SELECT INBOX\r\np3 FETCH 1 (FLAGS)\r\n"
                    + "p4 STORE 1 +FLAGS (\\Flagged)\r\np5 CLOSE\r\np6 LOGOUT\r\n");
            assertAnsweredOk(client, "p1", "p2", "p3", "p4", "p5");
            List<String> bye = client.readUntilTagged("p6");
            assertThat(bye.get(0)).startsWith("p6 OK");
            assertThat(bye).anyMatch(line -> line.startsWith("* BYE"));
        }
    }

    @Test
    void authenticatePlainTakesItsAnswerOnTheContinuationLine() throws Exception {
        String user = newUser();
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.write("a AUTHENTICATE PLAIN\r\n");
            client.expectLineStartingWith("+");
            client.write(java.util.Base64.getEncoder().encodeToString(("\0" + user + "\0" + PASSWORD)
                    .getBytes(StandardCharsets.US_ASCII)) + "\r\n");
            assertThat(client.readUntilTagged("a").get(0)).startsWith("a OK");
        }
    }

    @Test
    void creatingAFolderThatExistsIsRefusedWithAlreadyExists() throws Exception {
        String user = newUser();
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            client.write("c1 CREATE Archive.2025\r\nc2 CREATE Archive\r\nc3 RENAME Archive.2025 Archive\r\n");
            assertAnsweredOk(client, "c1");
            assertThat(client.readUntilTagged("c2").get(0)).startsWith("c2 NO [ALREADYEXISTS]");
            assertThat(client.readUntilTagged("c3").get(0)).startsWith("c3 NO [ALREADYEXISTS]");
        }
    }

    @Test
    void idleStillEndsWithDone() throws Exception {
        String user = newUser();
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.login(user, PASSWORD);
            client.write("s SELECT INBOX\r\n");
            client.readUntilTagged("s");
            client.write("i IDLE\r\n");
            client.expectLineStartingWith("+ ");
            client.write("DONE\r\n");
            assertThat(client.readUntilTagged("i").get(0)).startsWith("i OK");
        }
    }

    @Test
    void commandsPipelinedAfterStartTlsCloseTheConnectionUnanswered() throws Exception {
        try (RawImapClient client = RawImapClient.plain(imapAddress)) {
            client.write("a STARTTLS\r\nb CAPABILITY\r\n");
            assertThat(client.readToClose()).doesNotContain("a OK").doesNotContain("b OK");
        }
    }

    @Test
    void aCommandLineLongerThanTheLimitGetsByeAndTheConnectionCloses() throws Exception {
        try (RawImapClient client = RawImapClient.tls(imapsAddress)) {
            client.write("n NOOP " + "x".repeat(ImapCommandDecoder.MAX_LINE_BYTES + 10));
            assertThat(client.readToClose()).startsWith("* BYE");
        }
    }

    // Three APPENDs, LITERAL+, of 0 bytes, 1 byte and a message that holds command-like lines.
    private static byte[] batch(String prefix, List<byte[]> expected) {
        byte[] empty = new byte[0];
        byte[] one = {'x'};
        byte[] lines = ("Subject: s\r\n\r\n" + prefix + "z LOGOUT\r\n{3+}\r\n").getBytes(StandardCharsets.US_ASCII);
        expected.add(empty);
        expected.add(one);
        expected.add(lines);
        return concat(append(prefix + "a", empty, "+"), append(prefix + "b", one, "+"), append(prefix + "c", lines, "+"));
    }

    private static void assertAnsweredOk(RawImapClient client, String... tags) throws IOException {
        for (String tag : tags) {
            List<String> lines = client.readUntilTagged(tag);
            assertThat(lines.get(0)).as("tagged answer to %s after %s", tag, lines).startsWith(tag + " OK");
            assertThat(lines.subList(1, lines.size())).as("nothing but untagged data before %s", tag)
                    .allMatch(line -> line.startsWith("* "));
        }
    }

    private static byte[] message(String name, int size) {
        StringBuilder text = new StringBuilder("Subject: " + name + "\r\nX-Spam-Flag: NO\r\n\r\n");
        while (text.length() < size) {
            text.append("line of ").append(name).append(" ").append(text.length()).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] append(String tag, byte[] message, String kind) {
        return concat((tag + " APPEND INBOX {" + message.length + kind + "}\r\n").getBytes(StandardCharsets.US_ASCII),
                message, crlf());
    }

    private static byte[] crlf() {
        return new byte[]{'\r', '\n'};
    }

    private static int[] cutsOf(int length, Random random) {
        int pieces = Math.min(length - 1, 1 + random.nextInt(6));
        return random.ints(Math.max(pieces, 0), 1, Math.max(length, 2)).sorted().distinct().toArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    private static String newUser() throws Exception {
        String user = "u" + USERS.incrementAndGet() + "@d.example";
        mailboxes.provision(user);
        return user;
    }

    /** The user's INBOX as stored, oldest first. */
    private static List<byte[]> stored(String user) throws Exception {
        Username username = Username.of(user);
        MailboxSession session = mailboxes.manager.createSystemSession(username);
        List<byte[]> messages = new ArrayList<>();
        MessageResultIterator it = mailboxes.manager.getMailbox(MailboxPath.inbox(username), session)
                .getMessages(MessageRange.all(), FetchGroup.FULL_CONTENT, session);
        while (it.hasNext()) {
            MessageResult m = it.next();
            try (InputStream in = m.getFullContent().getInputStream()) {
                messages.add(in.readAllBytes());
            }
        }
        return messages;
    }
}
