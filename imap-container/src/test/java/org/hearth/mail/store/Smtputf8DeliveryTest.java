package org.hearth.mail.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SMTPUTF8 (RFC 6531/6532) at the store's LMTP port: mail to an alias with a non-ASCII local part,
 * from a non-ASCII sender, with UTF-8 header fields, is accepted and stored byte for byte; without
 * SMTPUTF8 declared, or with bytes that are not UTF-8, it is refused with a reply that says why.
 * The real LMTP server and store in this JVM, a raw client over a socket, a socket peer for spamd.
 */
class Smtputf8DeliveryTest {

    @TempDir
    Path data;
    private FakeSpamd spamd;
    private StoreFixture store;

    @BeforeEach
    void start() throws Exception {
        spamd = new FakeSpamd();
        store = new StoreFixture(data, spamd.address());
        // Added as an owner would, in another case: the store keeps it lower case, NFC.
        MailAdmin.run(new Accounts(data.resolve("accounts.json")), List.of("alias", "add", "JÖRG@d.example", "a@d.example"),
                new ByteArrayInputStream(new byte[0]));
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        spamd.close();
    }

    @Test
    void mailToANonAsciiAliasFromANonAsciiSenderIsStoredByteForByte() throws Exception {
        byte[] message = ("From: Müller <müller@elsewhere.example>\r\nTo: Jörg <jörg@d.example>\r\n"
                + "Subject: Grüße aus Köln\r\nMessage-ID: <ü1@elsewhere.example>\r\n\r\nSchöne Grüße, 日本語も\r\n")
                .getBytes(StandardCharsets.UTF_8);
        try (Conversation c = new Conversation(store.lmtp)) {
            assertThat(c.command("LHLO sender.example")).contains("SMTPUTF8");
            assertThat(c.command("MAIL FROM:<müller@elsewhere.example> SMTPUTF8")).startsWith("250");
            // Decomposed (NFD) "ö" names the same alias.
            assertThat(c.command("RCPT TO:<jo\u0308rg@d.example>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.data(message)).startsWith("250");
        }
        byte[] stored = store.newest("a@d.example", Mailboxes.INBOX).getBytes(StandardCharsets.ISO_8859_1);
        String text = new String(stored, StandardCharsets.UTF_8);
        assertThat(text).contains("\r\n\r\nSchöne Grüße, 日本語も\r\n").contains("Subject: Grüße aus Köln\r\n")
                .contains("From: Müller <müller@elsewhere.example>\r\n");
        byte[] tail = java.util.Arrays.copyOfRange(stored, stored.length - message.length, stored.length);
        assertThat(tail).isEqualTo(message);
    }

    @Test
    void aNonAsciiAddressWithoutSmtputf8DeclaredIsRefusedWith5_6_7() throws Exception {
        try (Conversation c = new Conversation(store.lmtp)) {
            c.command("LHLO sender.example");
            assertThat(c.command("MAIL FROM:<müller@elsewhere.example>")).startsWith("553 5.6.7").contains("SMTPUTF8");
            assertThat(c.command("MAIL FROM:<s@elsewhere.example>")).startsWith("250");
            assertThat(c.command("RCPT TO:<jörg@d.example>")).startsWith("553 5.6.7");
            assertThat(c.command("RCPT TO:<a@d.example>")).startsWith("250");
            // A refused MAIL's declaration does not carry over to the next transaction.
            assertThat(c.command("RSET")).startsWith("250");
            assertThat(c.command("MAIL FROM:<not an address> SMTPUTF8")).startsWith("5");
            assertThat(c.command("MAIL FROM:<s@elsewhere.example>")).startsWith("250");
            assertThat(c.command("RCPT TO:<jörg@d.example>")).startsWith("553 5.6.7");
            assertThat(c.command("RSET")).startsWith("250");
            assertThat(c.command("MAIL FROM:<s@elsewhere.example> SMTPUTF8=yes")).startsWith("501 5.5.4 SMTPUTF8 takes no value");
        }
    }

    @Test
    void anAddressThatIsNotUtf8OrNotAnAddressIsRefusedAndSaysWhy() throws Exception {
        try (Conversation c = new Conversation(store.lmtp)) {
            c.command("LHLO sender.example");
            assertThat(c.command("MAIL FROM:<s@elsewhere.example> SMTPUTF8")).startsWith("250");
            byte[] latin1 = "RCPT TO:<j\u00f6rg@d.example>".getBytes(StandardCharsets.ISO_8859_1);
            assertThat(c.command(latin1)).startsWith("553 5.1.3").contains("not valid UTF-8");
            assertThat(c.command("RCPT TO:<jö..rg@d.example>")).startsWith("553 5.1.3").contains("empty dot-separated part");
            assertThat(c.command("RCPT TO:<jö\u200brg@d.example>")).startsWith("553 5.1.3").contains("U+200B");
            assertThat(c.command("RCPT TO:<zoë@d.example>")).startsWith("550 5.1.1").contains("No such user");
            assertThat(c.command("RCPT TO:<zoë@elsewhere.example>")).startsWith("550 5.7.1").contains("not a domain of this server");
        }
    }

    /** A raw LMTP session that writes exactly the bytes it is given. */
    private static final class Conversation implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Conversation(java.net.InetSocketAddress server) throws IOException {
            socket = new Socket();
            socket.connect(server, 5_000);
            socket.setSoTimeout(30_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            reply();
        }

        String command(String line) throws IOException {
            return command(line.getBytes(StandardCharsets.UTF_8));
        }

        String command(byte[] line) throws IOException {
            out.write(line);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return reply();
        }

        String data(byte[] message) throws IOException {
            out.write(message);
            out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return reply();
        }

        /** The whole reply, its lines joined by newlines. */
        private String reply() throws IOException {
            StringBuilder all = new StringBuilder();
            while (true) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                for (int b; (b = in.read()) != '\n'; ) {
                    if (b < 0) {
                        throw new IOException("connection closed after: " + all);
                    }
                    line.write(b);
                }
                String text = line.toString(StandardCharsets.UTF_8).strip();
                all.append(all.length() == 0 ? "" : "\n").append(text);
                if (text.length() < 4 || text.charAt(3) != '-') {
                    return all.toString();
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
