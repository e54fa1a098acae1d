package org.hearth.mail.inbound;

import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.apache.james.protocols.netty.NettyServer;
import org.hearth.mail.common.TlsIdentity;

import java.net.InetSocketAddress;

/** The real InboundSmtp server on a loopback port, in front of a recording LMTP peer. */
final class RunningSmtp implements AutoCloseable {

    final RecordingLmtpServer store;
    final int port;
    private final NettyServer smtp;

    /** @param proxied every connection must start with a PROXY protocol header */
    RunningSmtp(long maxSize, TlsIdentity tls, boolean proxied) throws Exception {
        store = new RecordingLmtpServer();
        smtp = InboundSmtp.server("mx.test", maxSize, new StoreHandOff(store.address(), "mx.test", 5000), tls,
                new DefaultMetricFactory(), proxied);
        smtp.setGracefulShutdown(false);
        smtp.setListenAddresses(new InetSocketAddress("127.0.0.1", 0));
        smtp.bind();
        port = smtp.getListenAddresses().get(0).getPort();
    }

    @Override
    public void close() throws Exception {
        smtp.unbind();
        store.close();
    }
}
