package org.hearth.mail.store;

import io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.api.process.MailboxType;
import org.apache.james.imap.api.process.MailboxTyper;
import org.apache.james.imap.encode.main.DefaultImapEncoderFactory;
import org.apache.james.imap.main.DefaultImapDecoderFactory;
import org.apache.james.imap.processor.main.DefaultImapProcessorFactory;
import org.apache.james.imapserver.netty.IMAPServer;
import org.apache.james.imapserver.netty.ImapMetrics;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.protocols.netty.Encryption;

import javax.net.ssl.SSLContext;

/**
 * IMAP over the mailbox store: one server with STARTTLS, one with implicit TLS. Passwords are
 * only accepted inside TLS. IDLE, UIDPLUS, MOVE and SPECIAL-USE come with James's processor.
 */
final class ImapService {

    private ImapService() {
    }

    /** The special-use attributes (RFC 6154) of the folders every user gets. */
    static final class FolderRoles implements MailboxTyper {
        @Override
        public MailboxType getMailboxType(ImapSession session, MailboxPath path) {
            return switch (path.getName()) {
                case Mailboxes.INBOX -> MailboxType.INBOX;
                case "Sent" -> MailboxType.SENT;
                case "Drafts" -> MailboxType.DRAFTS;
                case "Trash" -> MailboxType.TRASH;
                case Mailboxes.JUNK -> MailboxType.SPAM;
                default -> MailboxType.OTHER;
            };
        }
    }

    /** James's IMAP server with a TLS context made here instead of read from a keystore file. */
    private static final class Server extends IMAPServer {
        private final Encryption tls;

        Server(Mailboxes store, MetricFactory metrics, Encryption tls) {
            super(DefaultImapDecoderFactory.createDecoder(), new DefaultImapEncoderFactory().buildImapEncoder(),
                    new ReadableBodiesOnly(DefaultImapProcessorFactory.createXListSupportingProcessor(store.manager,
                            store.eventBus, store.subscriptions, new FolderRoles(), store.quota.getQuotaManager(),
                            store.quota.getQuotaRootResolver(), metrics)),
                    new ImapMetrics(metrics), new NoopGaugeRegistry());
            this.tls = tls;
        }

        @Override
        protected void buildSSLContext() {
            this.encryption = tls;
        }

        @Override
        protected ChannelInboundHandlerAdapter createCoreHandler() {
            return new CommandSequencer(super.createCoreHandler());
        }
    }

    /**
     * Starts a server on {@code port}: STARTTLS when {@code implicitTls} is false, TLS from the
     * first byte otherwise. {@code name} must differ between servers (James registers it in JMX).
     */
    static IMAPServer start(String name, int port, boolean implicitTls, SSLContext tls, Mailboxes store,
                            MetricFactory metrics, String hostname) throws Exception {
        return start(name, "0.0.0.0", port, implicitTls, tls, store, metrics, hostname);
    }

    /** As above, on one address only: in-process tests bind to loopback. */
    static IMAPServer start(String name, String address, int port, boolean implicitTls, SSLContext tls, Mailboxes store,
                            MetricFactory metrics, String hostname) throws Exception {
        BaseHierarchicalConfiguration config = new BaseHierarchicalConfiguration();
        config.addProperty("bind", address + ":" + port);
        config.addProperty("jmxName", name);
        config.addProperty("helloName", hostname);
        config.addProperty("helloName[@autodetect]", false);
        config.addProperty("provisionDefaultMailboxes", false);
        config.addProperty("gracefulShutdown", false);
        config.addProperty("auth.requireSSL", true);
        config.addProperty("enableIdle", true);
        Server server = new Server(store, metrics, implicitTls ? Encryption.createTls(tls) : Encryption.createStartTls(tls));
        server.configure(config);
        server.init();
        return server;
    }
}
