package org.hearth.mail.store;

import org.apache.james.imapserver.netty.IMAPServer;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.hearth.tls.TlsIdentity;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The store's IMAP servers (implicit TLS and STARTTLS) on loopback over a fresh mailbox database.
 * Every user's password is {@link #PASSWORD}; {@link #USER} is provisioned.
 */
final class InProcessImap implements AutoCloseable {
    static final String USER = "a@d.example";
    static final String PASSWORD = "load-password";
    static final long APPEND_LIMIT = 26_214_400;

    final Mailboxes mailboxes;
    final int implicitTlsPort;
    final int startTlsPort;
    final InetSocketAddress implicitTls;
    final InetSocketAddress startTls;
    private final List<IMAPServer> servers = new ArrayList<>();

    InProcessImap(Path data) throws Exception {
        this(data, APPEND_LIMIT);
    }

    InProcessImap(Path data, long appendLimit) throws Exception {
        System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        DefaultMetricFactory metrics = new DefaultMetricFactory();
        mailboxes = new Mailboxes(data.resolve("mailboxes"),
                (user, password) -> password.toString().equals(PASSWORD), metrics);
        mailboxes.provision(USER);
        SSLContext tls = TlsIdentity.ephemeral("mail.d.example").serverContext();
        implicitTlsPort = StoreFixture.freePort();
        startTlsPort = StoreFixture.freePort();
        implicitTls = new InetSocketAddress("127.0.0.1", implicitTlsPort);
        startTls = new InetSocketAddress("127.0.0.1", startTlsPort);
        // No scanner here: a message moved into or out of Junk is learned on the real engine (SpamLearningTest).
        SpamLearner learner = new SpamLearner(mailboxes,
                new SpamScanner(InetSocketAddress.createUnresolved("127.0.0.1", StoreFixture.freePort()), 1000), 512000);
        servers.add(ImapService.start("imaps-" + implicitTlsPort, implicitTls, true, tls, mailboxes, learner, metrics,
                "mail.d.example", appendLimit));
        servers.add(ImapService.start("imap-" + startTlsPort, startTls, false, tls, mailboxes, learner, metrics,
                "mail.d.example", appendLimit));
    }

    @Override
    public void close() {
        servers.forEach(IMAPServer::destroy);
        mailboxes.close();
    }
}
