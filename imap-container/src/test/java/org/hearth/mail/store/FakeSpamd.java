package org.hearth.mail.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A socket peer that answers the SPAMC/1.5 SYMBOLS command the way spamd 4.0.1 does, with a
 * verdict the test sets, after an optional delay (to hold a delivery in flight).
 */
final class FakeSpamd implements AutoCloseable {

    private final ServerSocket server;
    private volatile boolean spam;
    private volatile long delayMillis;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();

    FakeSpamd() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::serve, "fake-spamd");
        t.setDaemon(true);
        t.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    void spam(boolean verdict) {
        spam = verdict;
    }

    void delay(long millis) {
        delayMillis = millis;
    }

    /** The most scans that were under way at one moment. */
    int mostInFlight() {
        return mostInFlight.get();
    }

    private void serve() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> answer(s), "fake-spamd-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void answer(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            in.transferTo(new ByteArrayOutputStream());
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(delayMillis);
            } finally {
                inFlight.decrementAndGet();
            }
            String verdict = spam ? "Spam: True ; 1002.7 / 5.0" : "Spam: False ; -1.0 / 5.0";
            String rules = spam ? "GTUBE" : "";
            s.getOutputStream().write(("SPAMD/1.1 0 EX_OK\r\nContent-length: " + rules.length() + "\r\n" + verdict
                    + "\r\n\r\n" + rules).getBytes(StandardCharsets.US_ASCII));
        } catch (IOException | InterruptedException ignored) {
            // The client gave up; nothing to answer.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
