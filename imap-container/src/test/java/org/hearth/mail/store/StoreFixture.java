package org.hearth.mail.store;

import org.apache.james.core.Username;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.MessageManager;
import org.apache.james.mailbox.model.FetchGroup;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.apache.james.protocols.netty.NettyServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * The real store in this JVM: accounts, the JPA mailbox on on-disk Derby, the delivery ledger,
 * the quarantine and the LMTP server on a loopback port, all under one data folder.
 */
final class StoreFixture implements AutoCloseable {

    /** The store's name in the Authentication-Results fields it writes. */
    static final String AUTHSERV_ID = "mail.d.example";

    /** A clock the test moves by hand. */
    static final class MovableClock extends Clock {
        private volatile Instant now = Instant.parse("2026-11-30T12:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    final Path data;
    final MovableClock clock = new MovableClock();
    final Mailboxes mailboxes;
    final DeliveryLedger ledger;
    final Quarantine quarantine;
    final InetSocketAddress lmtp;
    /** The port the appliance's own outbound delivers to (its users' mail and notices). */
    final InetSocketAddress ownLmtp;
    private final NettyServer server;
    private final NettyServer ownServer;

    StoreFixture(Path data, InetSocketAddress spamd) throws Exception {
        this.data = data;
        System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        writeAccounts(data);
        MetricFactory metrics = new DefaultMetricFactory();
        Accounts accounts = new Accounts(data.resolve("accounts.json"));
        mailboxes = new Mailboxes(data.resolve("mailboxes"), (user, password) -> false, metrics);
        String url = Mailboxes.jdbcUrl(data.resolve("mailboxes"));
        ledger = new DeliveryLedger(url, clock);
        quarantine = new Quarantine(url, data.resolve("quarantine"), clock, Quarantine.THRESHOLD);
        lmtp = new InetSocketAddress("127.0.0.1", freePort());
        LmtpDelivery.Factory delivery = origin -> new LmtpDelivery(accounts, mailboxes, ledger, quarantine,
                new SpamScanner(spamd, 5_000), new SpamLearner(mailboxes, new SpamScanner(spamd, 5_000), 512_000),
                LmtpDelivery.WhenScannerDown.TEMPFAIL, 512_000, AUTHSERV_ID, origin);
        server = delivery.of(LmtpDelivery.Origin.INTERNET).server(lmtp, 10_000_000, metrics);
        ownLmtp = new InetSocketAddress("127.0.0.1", freePort());
        ownServer = delivery.of(LmtpDelivery.Origin.OWN_OUTBOUND).server(ownLmtp, 10_000_000, metrics);
    }

    static void writeAccounts(Path data) throws IOException {
        Files.createDirectories(data);
        // Delivery never checks passwords, so the users' hashes can be placeholders.
        Files.writeString(data.resolve("accounts.json"), """
                {"domains": ["d.example"],
                 "users": {"a@d.example": "unused", "b@d.example": "unused"},
                 "aliases": {}}
                """);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    long count(String user, String folder) throws Exception {
        return count(mailboxes, user, folder);
    }

    static long count(Mailboxes mailboxes, String user, String folder) throws Exception {
        mailboxes.provision(user);
        Username u = Username.of(user);
        MailboxSession session = mailboxes.manager.createSystemSession(u);
        return mailboxes.manager.getMailbox(MailboxPath.forUser(u, folder), session).getMailboxCounters(session).getCount();
    }

    /** The newest message in the folder, whole. */
    String newest(String user, String folder) throws Exception {
        mailboxes.provision(user);
        Username u = Username.of(user);
        MailboxSession session = mailboxes.manager.createSystemSession(u);
        MessageManager box = mailboxes.manager.getMailbox(MailboxPath.forUser(u, folder), session);
        String newest = null;
        for (var it = box.getMessages(MessageRange.all(), FetchGroup.FULL_CONTENT, session); it.hasNext(); ) {
            try (InputStream in = it.next().getFullContent().getInputStream()) {
                newest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
        return newest;
    }

    @Override
    public void close() throws Exception {
        server.unbind();
        ownServer.unbind();
        quarantine.close();
        ledger.close();
        mailboxes.close();
    }
}
