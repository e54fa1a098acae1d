package org.hearth.mail.store;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link WritesInOrder} over a real Netty event loop (an in-JVM channel): a write from a mailbox
 * thread followed by one on the event loop leaves in that order, and a write on the loop with
 * nothing queued still leaves at once. The reordering it prevents is shown on the bare channel.
 */
class WritesInOrderTest {

    private static final DefaultEventLoopGroup LOOPS = new DefaultEventLoopGroup(2);
    private static final BlockingQueue<Channel> ACCEPTED = new LinkedBlockingQueue<>();
    private static Channel server;

    private Channel client;
    private Channel connection;
    private final StringBuffer received = new StringBuffer();

    @BeforeAll
    static void listen() throws InterruptedException {
        server = new ServerBootstrap().group(LOOPS).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel channel) {
                        ACCEPTED.add(channel);
                    }
                })
                .bind(new LocalAddress("writes-in-order")).sync().channel();
    }

    @AfterAll
    static void stop() {
        server.close().syncUninterruptibly();
        LOOPS.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void connect() throws InterruptedException {
        client = new Bootstrap().group(LOOPS).channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object message) {
                        ByteBuf bytes = (ByteBuf) message;
                        received.append(bytes.toString(StandardCharsets.US_ASCII));
                        bytes.release();
                    }
                })
                .connect(server.localAddress()).sync().channel();
        connection = ACCEPTED.poll(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void disconnect() {
        client.close().syncUninterruptibly();
        connection.closeFuture().syncUninterruptibly();
    }

    @Test
    void aWriteOnTheEventLoopWaitsForTheMailboxThreadsWritesBeforeIt() throws Exception {
        literalFromAnotherThreadThenCloseOnTheLoop(WritesInOrder.of(connection));

        assertEquals("* 1 FETCH (BODY[] {4}\r\ntext)\r\na1 OK\r\n", await(34));
    }

    @Test
    void theBareChannelLetsTheLoopsWriteOvertakeTheQueuedOnes() throws Exception {
        literalFromAnotherThreadThenCloseOnTheLoop(connection);

        assertEquals(")\r\na1 OK\r\n* 1 FETCH (BODY[] {4}\r\ntext", await(34),
                "Netty writes on its loop at once and queues other threads' writes: the hazard WritesInOrder removes");
    }

    @Test
    void aWriteOnTheLoopWithNothingQueuedLeavesBeforeAHandlerAddedRightAfterIt() throws Exception {
        Channel channel = WritesInOrder.of(connection);
        connection.eventLoop().submit(() -> {
            channel.writeAndFlush(ascii("a1 OK Begin TLS\r\n"));
            connection.pipeline().addFirst(new UpperCase()); // as STARTTLS adds its TLS handler
            channel.writeAndFlush(ascii("secret\r\n"));
        }).sync();

        assertEquals("a1 OK Begin TLS\r\nSECRET\r\n", await(25));
    }

    @Test
    void aFlushFromAnotherThreadKeepsItsPlaceToo() throws Exception {
        Channel channel = WritesInOrder.of(connection);
        connection.eventLoop().submit(() -> {
            onAnotherThread(() -> {
                channel.write(ascii("first "));
                channel.flush();
            });
            channel.writeAndFlush(ascii("second"));
        }).sync();

        assertEquals("first second", await(12));
    }

    /** On the loop (as James finishes a command there), after a mailbox thread queued the literal. */
    private void literalFromAnotherThreadThenCloseOnTheLoop(Channel channel) throws Exception {
        connection.eventLoop().submit(() -> {
            onAnotherThread(() -> {
                channel.writeAndFlush(ascii("* 1 FETCH (BODY[] {4}\r\n"));
                channel.writeAndFlush(ascii("text"));
            });
            channel.writeAndFlush(ascii(")\r\na1 OK\r\n"));
        }).sync();
    }

    /** Runs {@code writes} on a thread of its own and waits for it: its writes are queued behind the running task. */
    private static void onAnotherThread(Runnable writes) {
        Thread thread = new Thread(writes, "mailbox");
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private String await(int length) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (received.length() < length && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(50); // nothing more may follow
        return received.toString();
    }

    private static ByteBuf ascii(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }

    private static final class UpperCase extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
            ByteBuf bytes = (ByteBuf) message;
            String text = bytes.toString(StandardCharsets.US_ASCII).toUpperCase(Locale.ROOT);
            bytes.release();
            ctx.write(ascii(text), promise);
        }
    }
}
