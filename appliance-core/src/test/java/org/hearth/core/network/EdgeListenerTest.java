package org.hearth.core.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The listener against a real echo server on loopback. */
class EdgeListenerTest {

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private ServerSocket echo;
    private EdgeListener listener;

    @AfterEach
    void close() throws IOException {
        if (listener != null) {
            listener.close();
        }
        if (echo != null) {
            echo.close();
        }
        pool.shutdownNow();
    }

    private InetSocketAddress startEcho() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    pool.execute(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                            s.shutdownOutput();
                        } catch (IOException e) {
                            // client gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return (InetSocketAddress) echo.getLocalSocketAddress();
    }

    private InetSocketAddress startListener(AtomicReference<Optional<InetSocketAddress>> target) throws IOException {
        return startListener(() -> target.get().map(Upstream::fixed), Optional.empty());
    }

    private InetSocketAddress startListener(Upstream.Source source, Optional<byte[]> refusal) throws IOException {
        return startListener(source, refusal, false, 0);
    }

    private InetSocketAddress startListener(Upstream.Source source, Optional<byte[]> refusal, boolean proxyHeader,
                                            int perClient) throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = probe.getLocalPort();
            probe.close();
            listener = new EdgeListener("test", new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    source, refusal, proxyHeader, perClient, pool);
        }
        listener.start();
        return listener.address();
    }

    @Test
    void copiesBytesBothWaysUnchangedAndPassesEndOfStream() throws IOException {
        InetSocketAddress upstream = startEcho();
        InetSocketAddress edge = startListener(new AtomicReference<>(Optional.of(upstream)));
        byte[] payload = new byte[3 << 20];
        new Random(7).nextBytes(payload);

        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            pool.execute(() -> {
                try {
                    s.getOutputStream().write(payload);
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            InputStream in = s.getInputStream();
            assertThat(in.readAllBytes()).isEqualTo(payload);
        }
        assertThat(listener.accepted()).isEqualTo(1);
    }

    @Test
    void aProxyingListenerTellsTheUpstreamWhoTheClientIsBeforeItsFirstByte() throws IOException {
        InetSocketAddress upstream = startEcho();
        int port = startListener(() -> Optional.of(Upstream.fixed(upstream)), Optional.empty(), true, 0).getPort();

        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write("EHLO".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            ByteBuffer echoed = ByteBuffer.wrap(s.getInputStream().readAllBytes());
            byte[] signature = new byte[12];
            echoed.get(signature);
            assertThat(signature).isEqualTo(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
            assertThat(echoed.get()).as("version 2, PROXY").isEqualTo((byte) 0x21);
            assertThat(echoed.get()).as("TCP over IPv4").isEqualTo((byte) 0x11);
            assertThat(echoed.getShort()).as("address block length").isEqualTo((short) 12);
            byte[] source = new byte[4];
            byte[] destination = new byte[4];
            echoed.get(source).get(destination);
            assertThat(source).isEqualTo(new byte[] {127, 0, 0, 1});
            assertThat(destination).isEqualTo(new byte[] {127, 0, 0, 1});
            assertThat(Short.toUnsignedInt(echoed.getShort())).as("the client's port").isEqualTo(s.getLocalPort());
            assertThat(Short.toUnsignedInt(echoed.getShort())).as("the listener's port").isEqualTo(port);
            byte[] rest = new byte[echoed.remaining()];
            echoed.get(rest);
            assertThat(new String(rest, StandardCharsets.US_ASCII)).as("then the client's bytes, unchanged").isEqualTo("EHLO");
        }
    }

    @Test
    void oneClientAddressGetsNoMoreThanItsCeilingOfConnectionsAtOnce() throws Exception {
        InetSocketAddress upstream = startEcho();
        int port = startListener(() -> Optional.of(Upstream.fixed(upstream)),
                Optional.of("421 busy\r\n".getBytes(StandardCharsets.US_ASCII)), false, 2).getPort();

        try (Socket first = echoing(port); Socket second = echoing(port); Socket third = new Socket(InetAddress.getLoopbackAddress(), port)) {
            third.setSoTimeout(5000);
            assertThat(new String(third.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .as("the third at once from the same address").isEqualTo("421 busy\r\n");
            first.close();
            // The ceiling counts open sessions: once one ends, the address may connect again.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            boolean servedAgain = false;
            while (!servedAgain && System.nanoTime() < deadline) {
                try (Socket again = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    again.setSoTimeout(5000);
                    again.getOutputStream().write('x');
                    servedAgain = again.getInputStream().read() == 'x';
                }
            }
            assertThat(servedAgain).as("a fourth, after the first ended, is echoed").isTrue();
            second.getOutputStream().write('y');
            assertThat(second.getInputStream().read()).as("the second was never disturbed").isEqualTo('y');
        }
        assertThat(listener.refused()).isGreaterThanOrEqualTo(1);
    }

    /** A connection through the listener that has shown it reaches the echo server. */
    private static Socket echoing(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(5000);
        s.getOutputStream().write('e');
        assertThat(s.getInputStream().read()).isEqualTo('e');
        return s;
    }

    @Test
    void closesTheClientWhenNoContainerRuns() throws IOException {
        InetSocketAddress edge = startListener(new AtomicReference<>(Optional.empty()));

        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(listener.refused()).isEqualTo(1);
    }

    @Test
    void newConnectionsFollowTheTargetWhenTheContainerMoves() throws IOException {
        AtomicReference<Optional<InetSocketAddress>> target = new AtomicReference<>(Optional.empty());
        InetSocketAddress edge = startListener(target);
        target.set(Optional.of(startEcho()));

        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            s.getOutputStream().write("hello".getBytes());
            s.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes())).isEqualTo("hello");
        }
    }

    @Test
    void turnedAwayConnectionsHearTheProtocolsRefusalLineBeforeTheClose() throws IOException {
        InetSocketAddress edge = startListener(Optional::empty,
                Optional.of("421 4.3.2 busy\r\n".getBytes(StandardCharsets.US_ASCII)));

        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .isEqualTo("421 4.3.2 busy\r\n");
        }
        assertThat(listener.refused()).isEqualTo(1);
    }

    /** An ephemeral container is destroyed on release: it must happen once per connection, after it ended. */
    @Test
    void releasesEachConnectionsUpstreamExactlyOnceWhenItEnds() throws Exception {
        InetSocketAddress echoAddress = startEcho();
        AtomicInteger released = new AtomicInteger();
        CountDownLatch bothReleased = new CountDownLatch(2);
        InetSocketAddress edge = startListener(() -> Optional.of(new Upstream() {
            @Override
            public InetSocketAddress address() {
                return echoAddress;
            }

            @Override
            public void release() {
                released.incrementAndGet();
                bothReleased.countDown();
            }
        }), Optional.empty());

        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            s.getOutputStream().write("one".getBytes());
            s.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes())).isEqualTo("one");
        }
        try (Socket s = new Socket(edge.getAddress(), edge.getPort())) {
            s.getOutputStream().write("two".getBytes());
            assertThat(s.getInputStream().read()).isEqualTo('t');
            assertThat(released.get()).isLessThanOrEqualTo(1);
            s.setSoLinger(true, 0);
        }
        assertThat(bothReleased.await(5, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(200);
        assertThat(released.get()).isEqualTo(2);
    }

    /** A client that keeps its side open after the server closed would otherwise hold its container for ever. */
    @Test
    void aClientLingeringAfterTheServerClosedLosesTheConnectionAfterTheGrace() throws Exception {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            try (Socket s = echo.accept()) {
                s.getOutputStream().write("bye\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // test over
            }
        });
        CountDownLatch released = new CountDownLatch(1);
        InetSocketAddress server = (InetSocketAddress) echo.getLocalSocketAddress();
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = probe.getLocalPort();
            probe.close();
            listener = new EdgeListener("test", new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    () -> Optional.of(new Upstream() {
                        @Override
                        public InetSocketAddress address() {
                            return server;
                        }

                        @Override
                        public void release() {
                            released.countDown();
                        }
                    }), Optional.empty(), pool, 300);
        }
        listener.start();

        try (Socket s = new Socket(listener.address().getAddress(), listener.address().getPort())) {
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("bye\r\n");
            // The client neither writes nor closes: only the grace can end its side.
            assertThat(released.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aListenerWhoseAcceptKeepsFailingBacksOffInsteadOfSpinningAndServesOnceItWorksAgain() throws Exception {
        // A fake: the JVM's descriptor limit cannot be lowered from a test, so this server socket
        // throws EMFILE's message from accept while told to, and is a real loopback socket otherwise.
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Supplier<ServerSocket> emfile = () -> {
            try {
                return new ServerSocket() {
                    @Override
                    public Socket accept() throws IOException {
                        attempts.incrementAndGet();
                        if (failing.get()) {
                            throw new IOException("Too many open files");
                        }
                        return super.accept();
                    }
                };
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        InetSocketAddress target = startEcho();
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        listener = new EdgeListener("test", new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                () -> Optional.of(Upstream.fixed(target)), Optional.empty(), false, 0, pool, 10_000, emfile);
        listener.start();

        Thread.sleep(700);
        // 10 + 20 + 40 + 80 + 160 + 320 ms of waits fit in 700 ms: a handful of attempts, not a spin.
        assertThat(attempts.get()).isBetween(2, 9);

        failing.set(false);
        try (Socket client = new Socket()) {
            client.connect(listener.address(), 3000);
            client.setSoTimeout(5000);
            client.getOutputStream().write("after EMFILE\n".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .isEqualTo("after EMFILE\n");
        }
    }
}
