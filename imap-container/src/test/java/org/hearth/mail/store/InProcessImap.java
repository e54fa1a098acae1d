package org.hearth.mail.store;

import org.apache.james.imapserver.netty.IMAPServer;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.hearth.mail.common.TlsIdentity;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The store's IMAP servers (implicit TLS and STARTTLS) on loopback over a fresh mailbox database. */
final class InProcessImap implements AutoCloseable {
    static final String USER = "a@d.example";
    static final String PASSWORD = "load-password";

    final Mailboxes mailboxes;
    final int implicitTlsPort;
    final int startTlsPort;
    private final List<IMAPServer> servers = new ArrayList<>();

    InProcessImap(Path data) throws Exception {
        System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        DefaultMetricFactory metrics = new DefaultMetricFactory();
        mailboxes = new Mailboxes(data.resolve("mailboxes"),
                (user, password) -> user.asString().equals(USER) && password.toString().equals(PASSWORD), metrics);
        mailboxes.provision(USER);
        SSLContext tls = TlsIdentity.ephemeral("mail.d.example").serverContext();
        implicitTlsPort = StoreFixture.freePort();
        startTlsPort = StoreFixture.freePort();
        servers.add(ImapService.start("imaps-load", "127.0.0.1", implicitTlsPort, true, tls, mailboxes, metrics, "mail.d.example"));
        servers.add(ImapService.start("imap-load", "127.0.0.1", startTlsPort, false, tls, mailboxes, metrics, "mail.d.example"));
    }

    @Override
    public void close() {
        servers.forEach(IMAPServer::destroy);
        mailboxes.close();
    }
}
