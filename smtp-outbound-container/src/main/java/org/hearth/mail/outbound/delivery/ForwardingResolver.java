package org.hearth.mail.outbound.delivery;

import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TSIG;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/** A resolver in front of another: settings go to the one behind, questions too unless a subclass answers them. */
abstract class ForwardingResolver implements Resolver {

    protected final Resolver behind;

    ForwardingResolver(Resolver behind) {
        this.behind = behind;
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        return behind.sendAsync(query, executor);
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query) {
        return behind.sendAsync(query);
    }

    @Override
    public void setPort(int port) {
        behind.setPort(port);
    }

    @Override
    public void setTCP(boolean flag) {
        behind.setTCP(flag);
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
        behind.setIgnoreTruncation(flag);
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        behind.setEDNS(version, payloadSize, flags, options);
    }

    @Override
    public void setTSIGKey(TSIG key) {
        behind.setTSIGKey(key);
    }

    @Override
    public void setTimeout(Duration timeout) {
        behind.setTimeout(timeout);
    }

    @Override
    public Duration getTimeout() {
        return behind.getTimeout();
    }
}
