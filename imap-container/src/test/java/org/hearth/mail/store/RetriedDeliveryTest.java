package org.hearth.mail.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sender that lost our 250 (the store died after the commit) sends the same message again. The
 * real LMTP server and store in this JVM, on-disk Derby in a temp folder, a real LMTP client over a
 * socket and a socket peer answering like spamd.
 */
class RetriedDeliveryTest {

    @TempDir
    Path data;
    private FakeSpamd spamd;
    private StoreFixture store;

    @BeforeEach
    void start() throws Exception {
        spamd = new FakeSpamd();
        store = new StoreFixture(data, spamd.address());
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        spamd.close();
    }

    /** The message as a given attempt sends it: the relay's Received line differs per attempt. */
    static byte[] message(int attempt, String messageId, String body) {
        return ("Received: from relay.example by smtp-in; attempt " + attempt + "\r\n"
                + (messageId == null ? "" : "Message-ID: " + messageId + "\r\n")
                + "From: s@elsewhere.example\r\nTo: a@d.example\r\nSubject: hello\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aRetriedMessageIsStoredOnce() throws Exception {
        assertThat(LmtpTestClient.send(store.lmtp, message(1, "<m1@elsewhere.example>", "body\r\n"), "a@d.example"))
                .singleElement().asString().startsWith("250").contains("Delivered");
        assertThat(LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example"))
                .singleElement().asString().startsWith("250").contains("Already delivered");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
    }

    @Test
    void aMessageWithoutMessageIdIsStoredEachTimeItIsSent() throws Exception {
        LmtpTestClient.send(store.lmtp, message(1, null, "body\r\n"), "a@d.example");
        assertThat(LmtpTestClient.send(store.lmtp, message(2, null, "body\r\n"), "a@d.example"))
                .singleElement().asString().startsWith("250");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(2);
    }

    @Test
    void theSameMessageIdWithADifferentBodyIsStoredAgain() throws Exception {
        LmtpTestClient.send(store.lmtp, message(1, "<m1@elsewhere.example>", "first body\r\n"), "a@d.example");
        LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "second body\r\n"), "a@d.example");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(2);
    }

    @Test
    void eachRecipientGetsItsOwnCopyAndARetryToBothAddsNone() throws Exception {
        byte[] m = message(1, "<m1@elsewhere.example>", "body\r\n");
        assertThat(LmtpTestClient.send(store.lmtp, m, "a@d.example", "b@d.example")).allMatch(r -> r.startsWith("250"));
        LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example", "b@d.example");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
        assertThat(store.count("b@d.example", Mailboxes.INBOX)).isEqualTo(1);
    }

    @Test
    void aMessageToAnotherRecipientLaterIsStoredForThatRecipient() throws Exception {
        LmtpTestClient.send(store.lmtp, message(1, "<m1@elsewhere.example>", "body\r\n"), "a@d.example");
        LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "b@d.example");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
        assertThat(store.count("b@d.example", Mailboxes.INBOX)).isEqualTo(1);
    }

    @Test
    void aRetryAfterACrashBetweenCommitAndDoneFindsTheStoredCopy() throws Exception {
        byte[] first = message(1, "<m1@elsewhere.example>", "body\r\n");
        String key = MessageIdentity.of(first).deliveryKey("a@d.example").orElseThrow();
        // What the crashed attempt left: an intent, then the committed append, and no "done".
        store.ledger.intend(key, "a@d.example", Mailboxes.INBOX, store.mailboxes.nextUid("a@d.example", Mailboxes.INBOX));
        store.mailboxes.deliver("a@d.example", Mailboxes.INBOX, VerdictHeaders.apply(first, "mail.d.example", "X-Spam-Flag: NO"));

        assertThat(LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example"))
                .singleElement().asString().contains("Already delivered");
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
        assertThat(store.ledger.find(key).orElseThrow().uid()).isPresent();
    }

    @Test
    void aRetryAfterACrashBeforeTheAppendDeliversTheMessage() throws Exception {
        byte[] first = message(1, "<m1@elsewhere.example>", "body\r\n");
        String key = MessageIdentity.of(first).deliveryKey("a@d.example").orElseThrow();
        // A copy from before the window (its record is gone) sits below the UID the crashed attempt recorded.
        store.mailboxes.deliver("a@d.example", Mailboxes.INBOX, VerdictHeaders.apply(first, "mail.d.example", "X-Spam-Flag: NO"));
        store.ledger.intend(key, "a@d.example", Mailboxes.INBOX, store.mailboxes.nextUid("a@d.example", Mailboxes.INBOX));

        assertThat(LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example"))
                .singleElement().asString().contains("Delivered").doesNotContain("Already");
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(2);
    }

    @Test
    void aPendingRetryIsLookedForInTheFolderTheIntentNamedEvenIfTheVerdictChanged() throws Exception {
        byte[] first = message(1, "<m1@elsewhere.example>", "body\r\n");
        String key = MessageIdentity.of(first).deliveryKey("a@d.example").orElseThrow();
        store.ledger.intend(key, "a@d.example", Mailboxes.JUNK, store.mailboxes.nextUid("a@d.example", Mailboxes.JUNK));
        store.mailboxes.deliver("a@d.example", Mailboxes.JUNK, VerdictHeaders.apply(first, "mail.d.example", "X-Spam-Flag: YES"));
        spamd.spam(false);

        LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example");

        assertThat(store.count("a@d.example", Mailboxes.JUNK)).isEqualTo(1);
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isZero();
    }

    @Test
    void aRecordOlderThan48HoursNoLongerSuppressesARetry() throws Exception {
        LmtpTestClient.send(store.lmtp, message(1, "<m1@elsewhere.example>", "body\r\n"), "a@d.example");
        store.clock.advance(Duration.ofHours(47));
        LmtpTestClient.send(store.lmtp, message(2, "<m1@elsewhere.example>", "body\r\n"), "a@d.example");
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);

        store.clock.advance(Duration.ofHours(1).plusMinutes(1));
        LmtpTestClient.send(store.lmtp, message(3, "<m1@elsewhere.example>", "body\r\n"), "a@d.example");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(2);
    }

    @Test
    void attemptsOfTheSameDeliveryRunningAtOnceStoreOneCopy() throws Exception {
        spamd.delay(300);
        List<CompletableFuture<List<String>>> attempts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] m = message(i, "<m1@elsewhere.example>", "body\r\n");
            attempts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return LmtpTestClient.send(store.lmtp, m, "a@d.example");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<List<String>> a : attempts) {
            assertThat(a.get()).singleElement().asString().startsWith("250");
        }

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
    }
}
