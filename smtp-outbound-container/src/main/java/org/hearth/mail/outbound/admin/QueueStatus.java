package org.hearth.mail.outbound.admin;

import org.hearth.mail.outbound.delivery.WayOut;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.ShortDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The queue as {@code hearth status} shows it (the manifest's {@code report} port): how many
 * messages wait, how old the oldest is, whether the way out works (port 25, or the relay), and per
 * destination the last answer that kept mail there. One line of {@code key=value} pairs, values percent-encoded; computed at most every few
 * seconds, since the supervisor asks once a second.
 */
public final class QueueStatus implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueueStatus.class);
    private static final Duration FRESH = Duration.ofSeconds(5);
    /** The supervisor keeps 32 facts; up to four are the totals and the way out. */
    private static final int MAX_DESTINATIONS = 28;

    private final MailQueue queue;
    private final WayOut wayOut;
    private final InstantSource clock;
    private final ServerSocket server;
    private String line = "";
    private Instant computed = Instant.MIN;

    private QueueStatus(MailQueue queue, WayOut wayOut, InstantSource clock, ServerSocket server) {
        this.queue = queue;
        this.wayOut = wayOut;
        this.clock = clock;
        this.server = server;
    }

    /** Answers on every address of the container at {@code port}; only the supervisor may reach it (no edge leads there). */
    public static QueueStatus serve(MailQueue queue, WayOut wayOut, InstantSource clock, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(port));
        QueueStatus status = new QueueStatus(queue, wayOut, clock, server);
        Thread t = new Thread(status::acceptLoop, "queue-status");
        t.setDaemon(true);
        t.start();
        return status;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                s.getOutputStream().write((current() + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.debug("event=status-connection-failed error={}", e.getMessage());
                }
            }
        }
    }

    synchronized String current() throws IOException {
        Instant now = clock.instant();
        if (Duration.between(computed, now).compareTo(FRESH) >= 0 || computed.isAfter(now)) {
            line = line(queue.list(), wayOut.facts(now), now);
            computed = now;
        }
        return line;
    }

    static String line(List<Envelope> queued, Map<String, String> wayOut, Instant now) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("queued", String.valueOf(queued.size()));
        if (!queued.isEmpty()) {
            facts.put("oldest", ShortDuration.of(Duration.between(queued.get(0).created(), now)));
        }
        facts.putAll(wayOut);
        int limit = facts.size() + MAX_DESTINATIONS;
        // Newest first: a destination's fact is the most recent answer that kept its mail waiting.
        for (int i = queued.size() - 1; i >= 0; i--) {
            for (Envelope.Recipient r : queued.get(i).pending()) {
                String domain = r.address().substring(r.address().lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
                if (r.lastReply() != null && !r.lastReply().isEmpty() && facts.size() < limit) {
                    facts.putIfAbsent("to." + domain, r.lastReply());
                }
            }
        }
        StringBuilder out = new StringBuilder();
        facts.forEach((k, v) -> out.append(out.length() == 0 ? "" : " ").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20")));
        return out.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
