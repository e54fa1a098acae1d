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
 * verdict the test sets, after an optional delay (to hold a delivery in flight); and, if the test
 * sets one, a sender check as the real scanner adds it. The real scanner is tested on the engine
 * (MailInboundTest, MailOutboundTest); this stands in for it where the store's own logic is tested.
 */
final class FakeSpamd implements AutoCloseable {

    private final ServerSocket server;
    private volatile boolean spam;
    private volatile long delayMillis;
    private volatile String senderCheck = "";
    private volatile String lastRequest = "";
    private final java.util.List<String> requests = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
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

    /** The sender check the real scanner adds: Authentication-Results clauses and a DMARC disposition. */
    void senderCheck(String results, String disposition) {
        senderCheck = "Authentication: " + results + "\r\nDMARC-Disposition: " + disposition + "\r\n";
    }

    /** The last request's command and header lines. */
    String lastRequest() {
        return lastRequest;
    }

    /** Every request's command and header lines, in the order they came. */
    java.util.List<String> requests() {
        return java.util.List.copyOf(requests);
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
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            in.transferTo(request);
            String head = request.toString(StandardCharsets.ISO_8859_1).split("\r\n\r\n", 2)[0];
            lastRequest = head;
            requests.add(head);
            boolean spamCheck = !head.contains("\r\nSpam-Check: no");
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(delayMillis);
            } finally {
                inFlight.decrementAndGet();
            }
            String verdict = spam ? "Spam: True ; 1002.7 / 5.0" : "Spam: False ; -1.0 / 5.0";
            String rules = spam ? "GTUBE" : "";
            s.getOutputStream().write(("SPAMD/1.1 0 EX_OK\r\nContent-length: " + rules.length() + "\r\n"
                    // As the real scanner: the sender is checked only when the request names it.
                    + (spamCheck ? verdict + "\r\n" : "") + (head.contains("\r\nEnvelope-From:") ? senderCheck : "")
                    + "\r\n" + rules).getBytes(StandardCharsets.US_ASCII));
        } catch (IOException | InterruptedException ignored) {
            // The client gave up; nothing to answer.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
