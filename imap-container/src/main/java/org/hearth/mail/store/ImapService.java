package org.hearth.mail.store;

import io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.api.process.MailboxType;
import org.apache.james.imap.api.process.MailboxTyper;
import org.apache.james.imap.decode.ImapDecoder;
import org.apache.james.imap.encode.main.DefaultImapEncoderFactory;
import org.apache.james.imap.main.DefaultImapDecoderFactory;
import org.apache.james.imap.processor.main.DefaultImapProcessorFactory;
import org.apache.james.imapserver.netty.IMAPServer;
import org.apache.james.imapserver.netty.ImapMetrics;
import org.apache.james.imapserver.netty.NettyConstants;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.protocols.netty.Encryption;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;

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

    /**
     * James's IMAP server with a TLS context made here instead of read from a keystore file, and
     * our {@link ImapCommandDecoder} in place of James's line framer and request decoder: commands
     * are framed whole, handed to James one at a time ({@link CommandSequencer}) and parsed in
     * their turn ({@link ParseInTurn}).
     */
    private static final class Server extends IMAPServer {
        private final Encryption tls;
        private final long appendLimit;

        Server(Mailboxes store, SpamLearner learner, MetricFactory metrics, Encryption tls, ImapDecoder parser,
               long appendLimit) {
            super(parser, new DefaultImapEncoderFactory().buildImapEncoder(),
                    new ParseInTurn(parser, new AnnouncedMessagesOnly(new AlreadyExistsCode(new ReadableBodiesOnly(
                            new JunkMoves(new FlagWritesInTurn(
                            DefaultImapProcessorFactory.createXListSupportingProcessor(store.manager, store.eventBus,
                                    store.subscriptions, new FolderRoles(), store.quota.getQuotaManager(),
                                    store.quota.getQuotaRootResolver(), metrics)), learner))))),
                    new ImapMetrics(metrics), new NoopGaugeRegistry());
            this.tls = tls;
            this.appendLimit = appendLimit;
        }

        @Override
        protected void buildSSLContext() {
            this.encryption = tls;
        }

        /**
         * James builds each channel's pipeline in a private factory; the core handler is added
         * last, so when it is added the framer and request decoder before it are swapped for ours.
         */
        @Override
        protected ChannelInboundHandlerAdapter createCoreHandler() {
            ChannelInboundHandlerAdapter core = new CommandSequencer(super.createCoreHandler());
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void handlerAdded(ChannelHandlerContext ctx) {
                    ChannelPipeline pipeline = ctx.pipeline();
                    pipeline.remove(NettyConstants.FRAMER);
                    pipeline.replace(NettyConstants.REQUEST_DECODER, NettyConstants.REQUEST_DECODER,
                            new ImapCommandDecoder(appendLimit));
                    pipeline.replace(this, NettyConstants.CORE_HANDLER, core);
                }
            };
        }
    }

    /**
     * Starts a server on {@code bind}: STARTTLS when {@code implicitTls} is false, TLS from the
     * first byte otherwise. {@code name} must differ between servers (James registers it in JMX).
     * {@code appendLimit} is the largest message APPEND takes (advertised as APPENDLIMIT). Messages
     * moved into and out of Junk go to {@code learner}.
     */
    static IMAPServer start(String name, InetSocketAddress bind, boolean implicitTls, SSLContext tls, Mailboxes store,
                            SpamLearner learner, MetricFactory metrics, String hostname, long appendLimit) throws Exception {
        BaseHierarchicalConfiguration config = new BaseHierarchicalConfiguration();
        config.addProperty("bind", bind.getHostString() + ":" + bind.getPort());
        config.addProperty("jmxName", name);
        config.addProperty("helloName", hostname);
        config.addProperty("helloName[@autodetect]", false);
        config.addProperty("provisionDefaultMailboxes", false);
        config.addProperty("gracefulShutdown", false);
        config.addProperty("auth.requireSSL", true);
        config.addProperty("enableIdle", true);
        config.addProperty("literalSizeLimit", appendLimit);
        Server server = new Server(store, learner, metrics, implicitTls ? Encryption.createTls(tls) : Encryption.createStartTls(tls),
                DefaultImapDecoderFactory.createDecoder(), appendLimit);
        server.configure(config);
        server.init();
        return server;
    }
}
