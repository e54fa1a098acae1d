package org.hearth.mail.store;

import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.api.process.SelectedMailbox;
import org.apache.james.imap.message.response.ExistsResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Message sequence numbers in the store's replies name only messages the client has been counted
 * (RFC 3501 2.3.1.2), while mail arrives into the selected mailbox: the real IMAP server over the
 * JPA store in this JVM, a raw client, delivery as LMTP makes it. The churn half of ImapLoadTest
 * covers the same with APPEND and EXPUNGE racing each other.
 */
class AnnouncedMessagesTest {

    private static final Pattern NUMBERED = Pattern.compile("^\\* (-?\\d+) (EXISTS|EXPUNGE|FETCH)\\b.*");

    @TempDir
    static Path data;
    private static InProcessImap store;

    @BeforeAll
    static void startServer() throws Exception {
        store = new InProcessImap(data);
    }

    @AfterAll
    static void stopServer() {
        store.close();
    }

    @Test
    void aFetchOfMailThatArrivedAfterSelectComesAfterTheExistsThatCountsIt() throws Exception {
        String user = InProcessImap.USER;
        store.mailboxes.deliver(user, Mailboxes.INBOX, message("one"));
        store.mailboxes.deliver(user, Mailboxes.INBOX, message("two"));
        try (RawImapClient client = RawImapClient.tls(store.implicitTls)) {
            client.login(user, InProcessImap.PASSWORD);
            client.write("s SELECT INBOX\r\n");
            List<String> selected = client.readUntilTagged("s");
            assertThat(selected.get(0)).startsWith("s OK");
            long counted = checkedCount(selected.subList(1, selected.size()), -1);

            store.mailboxes.deliver(user, Mailboxes.INBOX, message("three"));
            // James 3.8.1 sent "* 3 FETCH" here before the "* 3 EXISTS" that ends the command.
            client.write("f UID FETCH 1:* (FLAGS)\r\n");
            List<String> fetched = client.readUntilTagged("f");
            assertThat(fetched.get(0)).startsWith("f OK");
            assertThat(fetched).anyMatch(line -> line.matches("\\* 3 FETCH .*"));
            assertThat(checkedCount(fetched.subList(1, fetched.size()), counted)).isEqualTo(3);
        }
    }

    /**
     * SELECT's EXISTS comes from the mailbox's count, its numbers from the session's view, read
     * apart: with a message arriving in between, James said {@code * 1 EXISTS} over an empty view and
     * the client's {@code FETCH 1:*} was refused (TwoAppliancesTest, 2 runs in 5). The race cannot be
     * forced through the real store, so the filter meets it here directly: a session whose view
     * holds no message yet (stand-ins made with {@link Proxy} for James's session and view).
     */
    @Test
    void anExistsNeverCountsMoreThanTheSessionsViewHolds() {
        long[] inView = {0};
        SelectedMailbox view = (SelectedMailbox) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{SelectedMailbox.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "existsCount" -> inView[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        Map<String, Object> attributes = new HashMap<>();
        ImapSession session = (ImapSession) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{ImapSession.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getSelected" -> view;
                    case "getAttribute" -> attributes.get((String) args[0]);
                    case "setAttribute" -> attributes.put((String) args[0], args[1]);
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        AnnouncedMessagesOnly filter = new AnnouncedMessagesOnly(null);

        List<ImapResponseMessage> selectCount = filter.filter(new ExistsResponse(1), session);
        assertThat(selectCount).singleElement().isInstanceOfSatisfying(ExistsResponse.class,
                e -> assertThat(e.getNumberOfMessages()).isZero());

        inView[0] = 1; // the view's event arrived: its own EXISTS at the client's next command
        List<ImapResponseMessage> viewCount = filter.filter(new ExistsResponse(1), session);
        assertThat(viewCount).singleElement().isInstanceOfSatisfying(ExistsResponse.class,
                e -> assertThat(e.getNumberOfMessages()).isEqualTo(1));
    }

    /**
     * Walks untagged replies in order, starting from the count the client already knows, and fails
     * on a number the client was never counted; returns the count after them.
     */
    private static long checkedCount(List<String> lines, long known) {
        long count = known;
        for (String line : lines) {
            Matcher m = NUMBERED.matcher(line);
            if (!m.matches()) {
                continue;
            }
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "EXISTS" -> count = n;
                case "EXPUNGE" -> {
                    assertThat(n).as("%s with %d messages counted", line, count).isBetween(1L, count);
                    count--;
                }
                default -> assertThat(n).as("%s with %d messages counted", line, count).isBetween(1L, count);
            }
        }
        return count;
    }

    private static byte[] message(String subject) {
        return ("Subject: " + subject + "\r\nX-Spam-Flag: NO\r\n\r\nbody of " + subject + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }
}
