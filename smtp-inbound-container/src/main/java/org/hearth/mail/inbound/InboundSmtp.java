package org.hearth.mail.inbound;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.netty.AbstractChannelPipelineFactory;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.NettyServer;
import org.apache.james.protocols.smtp.SMTPConfigurationImpl;
import org.apache.james.protocols.smtp.SMTPProtocol;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineMessageHookHandler;
import org.apache.james.protocols.smtp.core.ReceivedDataLineFilter;
import org.apache.james.protocols.smtp.core.ExpnCmdHandler;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.MailCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RcptCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;
import org.apache.james.protocols.smtp.core.VrfyCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.StartTlsCmdHandler;
import org.hearth.mail.common.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The mail app's internet-facing MX: Apache James's SMTP protocol with STARTTLS, SIZE,
 * PIPELINING, 8BITMIME and ENHANCEDSTATUSCODES, a Received header, and {@link StoreHandOff}
 * deciding recipients and storage through the mail store. It keeps no queue and no volume.
 * Settings from the manifest's environment: {@code MAIL_HOSTNAME}, {@code SMTP_BIND} (0.0.0.0), {@code SMTP_PORT} (2525),
 * {@code MAIL_STORE_LMTP} (imap:2424), {@code MAX_MESSAGE_BYTES} (26214400), {@code STORE_TIMEOUT_MS} (120000).
 */
public final class InboundSmtp {

    private static final Logger LOG = LoggerFactory.getLogger(InboundSmtp.class);

    private InboundSmtp() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        String hostname = env("MAIL_HOSTNAME", "mail.hearth.invalid");
        long maxSize = Long.parseLong(env("MAX_MESSAGE_BYTES", "26214400"));
        String store = env("MAIL_STORE_LMTP", "imap:2424");
        int colon = store.lastIndexOf(':');
        StoreHandOff handOff = new StoreHandOff(
                InetSocketAddress.createUnresolved(store.substring(0, colon), Integer.parseInt(store.substring(colon + 1))),
                hostname, Integer.parseInt(env("STORE_TIMEOUT_MS", "120000")));
        // The supervisor lists the ports whose edge listener starts each connection with a PROXY v2 header.
        String smtpPort = env("SMTP_PORT", "2525");
        boolean proxied = Arrays.asList(env("HEARTH_PROXY_PROTOCOL_PORTS", "").split(",")).contains(smtpPort);
        NettyServer server = server(hostname, maxSize, handOff, TlsIdentity.ephemeral(hostname), new DefaultMetricFactory(),
                proxied);
        // Every interface in the container; a test on the host binds loopback only.
        server.setListenAddresses(new InetSocketAddress(env("SMTP_BIND", "0.0.0.0"), Integer.parseInt(smtpPort)));
        server.bind();
        LOG.info("event=ready service=smtp-in ms={}", (System.nanoTime() - start) / 1_000_000);
    }

    static NettyServer server(String hostname, long maxSize, StoreHandOff handOff, TlsIdentity tls, MetricFactory metrics)
            throws Exception {
        return server(hostname, maxSize, handOff, tls, metrics, false);
    }

    /** @param proxied every connection starts with a PROXY protocol header (v1 or v2) naming the real client */
    static NettyServer server(String hostname, long maxSize, StoreHandOff handOff, TlsIdentity tls, MetricFactory metrics,
                              boolean proxied) throws Exception {
        SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
        // James's default chain accepts postmaster@ and abuse@ of any domain (an open relay for them):
        // the handlers are listed here instead, and the store decides every recipient.
        List<ProtocolHandler> handlers = new ArrayList<>(List.of(
                new CommandDispatcher<SMTPSession>(), new EhloCmdHandler(metrics), new HeloCmdHandler(metrics),
                new MailCmdHandler(metrics), new NoopCmdHandler(), new QuitCmdHandler(metrics),
                new RcptCmdHandler(metrics), new RsetCmdHandler(), new ChunkedDataCmdHandler(metrics, maxSize),
                new VrfyCmdHandler(), new ExpnCmdHandler(),
                // Data line filters run in this order: bare CR/LF first, so it sees every line.
                new BareLineEndNormalizer(), new MessageSizeLimit(), new WelcomeMessageHandler(), new ReceivedDataLineFilter(),
                new DataLineMessageHookHandler(), new StartTlsCmdHandler(), new UnknownCmdHandler(metrics),
                new CommandHandlerResultLogger()));
        // Last, so the size limit is enforced before anything reaches the store.
        handlers.add(handOff);
        chain.addAll(handlers);
        chain.wireExtensibleHandlers();
        SMTPConfigurationImpl config = new SMTPConfigurationImpl() {
            @Override
            public long getMaxMessageSize() {
                return maxSize;
            }

            @Override
            public String getHelloName() {
                return hostname;
            }

            @Override
            public String getSoftwareName() {
                return "Hearth";
            }
        };
        return new NettyServer.Factory()
                .protocol(new SMTPProtocol(chain, config))
                .secure(Encryption.createStartTls(tls.serverContext()))
                .proxyRequired(proxied)
                // Lines as sent (BareLineEndNormalizer decides on bare LFs in DATA); commands buffered with STARTTLS drop the connection.
                .frameHandlerFactory(SmtpLineFrameDecoder.factory(AbstractChannelPipelineFactory.MAX_LINE_LENGTH))
                .build();
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
