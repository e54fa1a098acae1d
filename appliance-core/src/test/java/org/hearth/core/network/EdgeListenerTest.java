package org.hearth.core.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = probe.getLocalPort();
            probe.close();
            listener = new EdgeListener("test", new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    target::get, pool);
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
}
