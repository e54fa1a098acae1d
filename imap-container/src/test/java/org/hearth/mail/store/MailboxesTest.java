package org.hearth.mail.store;

import org.apache.james.core.Username;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** The real JPA mailbox on embedded Derby in a temporary folder. */
class MailboxesTest {

    @TempDir
    Path data;
    private Mailboxes mailboxes;

    @BeforeEach
    void open() {
        System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        mailboxes = new Mailboxes(data.resolve("db"), (user, password) -> false, new DefaultMetricFactory());
    }

    @AfterEach
    void close() {
        mailboxes.close();
    }

    @Test
    void concurrentFirstDeliveriesToANewUserAllSucceed() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> deliveries = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] message = ("Subject: " + i + "\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII);
            deliveries.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                    mailboxes.deliver("new@d.example", Mailboxes.INBOX, message);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        for (CompletableFuture<Void> d : deliveries) {
            d.get();
        }

        Username user = Username.of("new@d.example");
        MailboxSession session = mailboxes.manager.createSystemSession(user);
        assertThat(mailboxes.manager.getMailbox(MailboxPath.forUser(user, Mailboxes.INBOX), session)
                .getMailboxCounters(session).getCount()).isEqualTo(4);
        for (String folder : Mailboxes.FOLDERS) {
            assertThat(mailboxes.manager.getMailbox(MailboxPath.forUser(user, folder), session)).isNotNull();
        }
    }
}
