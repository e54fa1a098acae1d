package org.hearth.mail.store;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connection's channel as James's IMAP handler sees it: its writes reach the socket in the order
 * James makes them, whichever thread makes them.
 *
 * <p>Netty writes at once when called on the channel's event loop, and queues a task when called
 * from any other thread. James 3.8.1 writes a FETCH's literal from a mailbox thread (queued) and,
 * now and then, the rest of the reply from the event loop (at once): the closing {@code )} and the
 * tagged {@code OK} then left before the {@code * n FETCH (... {size}} line and its octets, and
 * mbsync stopped with "unexpected tag )" (issue #21, about one first sync in twelve). Here a write
 * on the event loop goes out at once only when no write from another thread is still queued;
 * otherwise it queues behind them. Writes on the loop with nothing queued stay immediate, as
 * STARTTLS needs: its OK must leave before the TLS handler is added in the same task.
 */
final class WritesInOrder {

    private static final AttributeKey<AtomicInteger> QUEUED = AttributeKey.valueOf("hearth-queued-writes");

    private WritesInOrder() {
    }

    static Channel of(Channel channel) {
        AtomicInteger fresh = new AtomicInteger();
        AtomicInteger existing = channel.attr(QUEUED).setIfAbsent(fresh);
        AtomicInteger writesQueued = existing == null ? fresh : existing;
        return (Channel) Proxy.newProxyInstance(WritesInOrder.class.getClassLoader(), new Class<?>[] {Channel.class},
                (proxy, method, args) -> {
                    boolean isWrite = switch (method.getName()) {
                        case "write", "writeAndFlush", "flush" -> true;
                        default -> false;
                    };
                    if (!isWrite || channel.eventLoop().inEventLoop() && writesQueued.get() == 0) {
                        Object result = invoke(channel, method, args);
                        return result == channel ? proxy : result;
                    }
                    return queue(channel, writesQueued, method.getName(), args, proxy);
                });
    }

    private static Object queue(Channel channel, AtomicInteger queued, String name, Object[] args, Object proxy) {
        Object message = args == null ? null : args[0];
        ChannelPromise promise = args != null && args.length == 2 ? (ChannelPromise) args[1] : channel.newPromise();
        queued.incrementAndGet();
        try {
            channel.eventLoop().execute(() -> {
                try {
                    switch (name) {
                        case "write" -> channel.write(message, promise);
                        case "writeAndFlush" -> channel.writeAndFlush(message, promise);
                        default -> channel.flush();
                    }
                } finally {
                    queued.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) { // the server is stopping
            queued.decrementAndGet();
            ReferenceCountUtil.release(message);
            promise.tryFailure(e);
        }
        return name.equals("flush") ? proxy : promise;
    }

    private static Object invoke(Channel channel, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(channel, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
