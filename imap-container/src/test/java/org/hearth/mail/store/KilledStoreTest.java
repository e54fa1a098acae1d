package org.hearth.mail.store;

import org.apache.james.core.Username;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.model.FetchGroup;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.mailbox.model.MessageResult;
import org.apache.james.mailbox.model.MessageResultIterator;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store as it runs in its container ({@link MailStore#main} in a child JVM), killed with
 * SIGKILL at staggered delays after the client's final dot, then each message retried against a
 * restarted store: every message must be there exactly once.
 */
@Tag("slow")
class KilledStoreTest {

    /** Milliseconds between the final dot and SIGKILL, one round each: before, across and after the commit. */
    private static final long[] KILL_AFTER_MS = {0, 80, 140, 180, 220, 260, 320, 1500};

    @TempDir
    Path data;

    @Test
    void aStoreKilledAtAnyPointOfADeliveryKeepsExactlyOneCopyOfEachRetriedMessage() throws Exception {
        StoreFixture.writeAccounts(data);
        try (FakeSpamd spamd = new FakeSpamd()) {
            for (int round = 0; round < KILL_AFTER_MS.length; round++) {
                try (ChildStore store = new ChildStore(data, spamd.address())) {
                    // A first delivery warms the JVM so the killed one runs at its usual pace.
                    LmtpTestClient.send(store.lmtp, RetriedDeliveryTest.message(0, null, "warm-up\r\n"), "a@d.example");
                    Socket client = LmtpTestClient.sendWithoutWaiting(store.lmtp, message(round, 1), "a@d.example");
                    Thread.sleep(KILL_AFTER_MS[round]);
                    store.kill();
                    client.close();
                }
            }
            int alreadyStored = 0;
            try (ChildStore store = new ChildStore(data, spamd.address())) {
                for (int round = 0; round < KILL_AFTER_MS.length; round++) {
                    String reply = LmtpTestClient.send(store.lmtp, message(round, 2), "a@d.example").get(0);
                    assertThat(reply).startsWith("250");
                    alreadyStored += reply.contains("Already delivered") ? 1 : 0;
                }
                System.out.println("killed-store: rounds=" + KILL_AFTER_MS.length + " stored_before_kill=" + alreadyStored
                        + " suppressed_by_search=" + store.countLog("found=search"));
                store.kill();
            }
            // Otherwise every retry was delivered fresh and duplicates could not have shown.
            assertThat(alreadyStored).isPositive();
        }

        Map<String, Integer> copies = copiesByMessageId();
        for (int round = 0; round < KILL_AFTER_MS.length; round++) {
            assertThat(copies.get("<round-" + round + "@elsewhere.example>")).as("copies of round %d", round).isEqualTo(1);
        }
    }

    private static byte[] message(int round, int attempt) {
        return RetriedDeliveryTest.message(attempt, "<round-" + round + "@elsewhere.example>",
                ("round " + round + " body\r\n").repeat(50));
    }

    private Map<String, Integer> copiesByMessageId() throws Exception {
        Map<String, Integer> copies = new TreeMap<>();
        System.setProperty("derby.stream.error.file", data.resolve("derby-check.log").toString());
        try (Mailboxes mailboxes = new Mailboxes(data.resolve("mailboxes"), (u, p) -> false, new DefaultMetricFactory())) {
            Username user = Username.of("a@d.example");
            MailboxSession session = mailboxes.manager.createSystemSession(user);
            MessageResultIterator all = mailboxes.manager.getMailbox(MailboxPath.forUser(user, Mailboxes.INBOX), session)
                    .getMessages(MessageRange.all(), FetchGroup.FULL_CONTENT, session);
            while (all.hasNext()) {
                MessageResult m = all.next();
                try (InputStream in = m.getFullContent().getInputStream()) {
                    MessageIdentity.of(in.readAllBytes()).messageId().ifPresent(id -> copies.merge(id, 1, Integer::sum));
                }
            }
        }
        return copies;
    }

    /** {@link MailStore} in its own JVM on the shared data folder, ready when its log says so. */
    private static final class ChildStore implements AutoCloseable {
        final InetSocketAddress lmtp;
        private final Process process;
        private final List<String> log = new ArrayList<>();

        ChildStore(Path data, InetSocketAddress spamd) throws Exception {
            int lmtpPort = StoreFixture.freePort();
            lmtp = new InetSocketAddress("127.0.0.1", lmtpPort);
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), MailStore.class.getName())
                    .redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.put("MAIL_DATA", data.toString());
            env.put("MAIL_HOSTNAME", "mail.d.example");
            env.put("LMTP_PORT", String.valueOf(lmtpPort));
            env.put("IMAP_PORT", String.valueOf(StoreFixture.freePort()));
            env.put("IMAPS_PORT", String.valueOf(StoreFixture.freePort()));
            env.put("SPAM_SCANNER", "127.0.0.1:" + spamd.getPort());
            process = pb.start();
            CompletableFuture<Void> ready = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (log) {
                            log.add(line);
                        }
                        if (line.contains("event=ready")) {
                            ready.complete(null);
                        }
                    }
                } catch (Exception ignored) {
                    // The process was killed.
                }
                ready.completeExceptionally(new IllegalStateException("store exited before it was ready: " + log));
            }, "child-store-log");
            reader.setDaemon(true);
            reader.start();
            long start = System.nanoTime();
            ready.get(120, TimeUnit.SECONDS);
            System.out.println("killed-store: ready_ms=" + (System.nanoTime() - start) / 1_000_000);
        }

        long countLog(String text) {
            synchronized (log) {
                return log.stream().filter(l -> l.contains(text)).count();
            }
        }

        /** SIGKILL: no shutdown hook, no Derby checkpoint, like the chaos test's kill. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            kill();
        }
    }
}
