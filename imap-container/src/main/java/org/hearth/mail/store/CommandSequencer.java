package org.hearth.mail.store;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.james.imapserver.netty.ReactiveThrottler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands James's IMAP handler the commands of one connection one at a time, each only once the
 * previous one's replies are all in the channel.
 *
 * <p>James 3.8.1 runs a command on a mailbox thread, whose writes wait in the event loop's task
 * queue, but starts a newly read command on the event loop itself, whose writes go out at once;
 * and its own per-connection queue lets a pipelined command run while another still writes. A
 * NOOP's OK then landed inside a FETCH's literal (issue #21). James signals the end of a command
 * with {@code fireChannelReadComplete()} right after its last flush; the next command is started
 * by a task queued behind that flush, so it can write nothing before it.
 */
final class CommandSequencer extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(CommandSequencer.class);
    /** A command that takes this long is logged: one from a sync client rarely should. */
    private static final Duration SLOW = Duration.ofSeconds(2);
    /** Looked up once: every command reads them. */
    private static final List<GarbageCollectorMXBean> COLLECTORS = ManagementFactory.getGarbageCollectorMXBeans();

    private final ChannelInboundHandler james;
    // Only touched on the channel's event loop.
    private final Deque<Object> waiting = new ArrayDeque<>();
    private boolean running;

    CommandSequencer(ChannelInboundHandler james) {
        this.james = james;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        james.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        waiting.clear(); // framed commands and responses hold nothing to release
        james.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        james.exceptionCaught(ctx, cause);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object command) {
        if (running) {
            waiting.add(command);
        } else {
            start(ctx, command);
        }
    }

    private void start(ChannelHandlerContext ctx, Object command) {
        running = true;
        AtomicBoolean finished = new AtomicBoolean();
        long begin = System.nanoTime();
        long gcBefore = gcMillis();
        Runnable next = () -> {
            if (finished.compareAndSet(false, true)) {
                long ms = (System.nanoTime() - begin) / 1_000_000;
                if (ms >= SLOW.toMillis() && command instanceof FramedCommand framed) {
                    // Clients give up on a silent server (mbsync after 20 s): say which command kept them
                    // waiting, and how much of that the whole JVM spent collecting garbage.
                    LOG.warn("event=slow-command command=\"{}\" ms={} gc_ms={}", framed.verb(), ms, gcMillis() - gcBefore);
                }
                // Queued behind the flush that came just before, whichever thread made it.
                ctx.executor().execute(() -> {
                    running = false;
                    Object following = waiting.poll();
                    if (following != null) {
                        start(ctx, following);
                    }
                });
            }
        };
        try {
            james.channelRead(completionAware(ctx, next), command);
        } catch (Exception e) {
            next.run();
            ctx.fireExceptionCaught(e);
        }
    }

    private static long gcMillis() {
        return COLLECTORS.stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).filter(t -> t > 0).sum();
    }

    /**
     * {@code ctx} as James's handler sees it, running {@code next} when James ends the command:
     * at its {@code fireChannelReadComplete()}, or when the throttler refused it outright. Its
     * channel keeps James's writes in order ({@link WritesInOrder}).
     */
    private static ChannelHandlerContext completionAware(ChannelHandlerContext ctx, Runnable next) {
        return (ChannelHandlerContext) Proxy.newProxyInstance(CommandSequencer.class.getClassLoader(),
                new Class<?>[] {ChannelHandlerContext.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(ctx, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("fireChannelReadComplete")
                            || method.getName().equals("fireExceptionCaught") && args[0] instanceof ReactiveThrottler.RejectedException) {
                        next.run();
                    }
                    if (result instanceof Channel channel) {
                        return WritesInOrder.of(channel);
                    }
                    return result == ctx ? proxy : result;
                });
    }
}
