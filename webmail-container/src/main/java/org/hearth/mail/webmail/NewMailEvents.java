package org.hearth.mail.webmail;

import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * New mail without a reload: each open page holds a server-sent event stream, and behind it an
 * IMAP connection of its own IDLEs on the INBOX (RFC 2177), so the store tells the webmail the
 * moment mail arrives and the webmail asks nothing meanwhile. An event carries the INBOX's counts;
 * the page then fetches what changed. A stream ends when its page goes away (a ping fails), its
 * session ends, or the store drops the IDLE; the browser's EventSource comes back by itself.
 */
final class NewMailEvents {

    private static final Logger LOG = LoggerFactory.getLogger(NewMailEvents.class);
    /** Each stream is an IMAP connection and a waiting thread: a home has a handful of open pages. */
    private static final int MAX_STREAMS = 16;
    private static final Duration PING = Duration.ofSeconds(25);

    private final MailServers servers;
    private final Semaphore streams = new Semaphore(MAX_STREAMS);
    private final ExecutorService waiters = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "new-mail");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService pings = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "new-mail-ping");
        t.setDaemon(true);
        return t;
    });

    NewMailEvents(MailServers servers) {
        this.servers = servers;
    }

    /** Starts a stream for {@code owner} on {@code response}; {@code live} says whether its session still is. */
    void open(OwnerSession owner, BooleanSupplier live, org.eclipse.jetty.server.Request request, Response response, Callback callback) {
        if (!streams.tryAcquire()) {
            response.setStatus(503);
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "60");
            response.write(true, null, callback);
            return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        Stream stream = new Stream(owner, live, response, callback);
        // A page that goes away closes its connection: end at once rather than at the next ping.
        request.addFailureListener(stream::fail);
        waiters.execute(stream::run);
    }

    private final class Stream {
        private final OwnerSession owner;
        private final BooleanSupplier live;
        private final Response response;
        private final Callback callback;
        private volatile boolean ended;
        private final java.util.concurrent.locks.ReentrantLock writing = new java.util.concurrent.locks.ReentrantLock();
        private volatile IMAPStore store;

        Stream(OwnerSession owner, BooleanSupplier live, Response response, Callback callback) {
            this.owner = owner;
            this.live = live;
            this.response = response;
            this.callback = callback;
        }

        void run() {
            ScheduledFuture<?> ping = pings.scheduleWithFixedDelay(this::ping, PING.toSeconds(), PING.toSeconds(), TimeUnit.SECONDS);
            try {
                // Reconnect after this long if the stream ends; the first line also flushes the headers.
                send("retry: 15000\n\n");
                store = (IMAPStore) Session.getInstance(servers.clientProperties("imap", Duration.ofMinutes(30))).getStore("imap");
                store.connect(servers.imap().getHostString(), servers.imap().getPort(), owner.user(), owner.password());
                IMAPFolder inbox = (IMAPFolder) store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                String counts = counts(inbox);
                send("event: hello\ndata: " + counts + "\n\n");
                while (!ended && inbox.isOpen()) {
                    inbox.idle(true);
                    String now = counts(inbox);
                    if (!now.equals(counts)) {
                        counts = now;
                        send("event: mail\ndata: " + counts + "\n\n");
                    }
                }
            } catch (MessagingException | IOException | RuntimeException e) {
                if (!ended) {
                    LOG.debug("event=new-mail-stream-ended user={} why={}", owner.user(), e.toString());
                }
            } finally {
                ping.cancel(false);
                end();
                closeStore();
            }
        }

        private String counts(IMAPFolder inbox) throws MessagingException {
            return "{\"folder\":\"INBOX\",\"messages\":" + inbox.getMessageCount() + ",\"unread\":" + inbox.getUnreadMessageCount() + "}";
        }

        /**
         * A comment line now and then: the only way to learn that the page went away. One ping thread
         * serves every stream, so a stream still busy writing (a stalled browser) is skipped, not waited for.
         */
        private void ping() {
            if (!live.getAsBoolean()) {
                end(null);
                return;
            }
            if (!writing.tryLock()) {
                return;
            }
            try {
                send(": ping\n\n");
            } catch (IOException | RuntimeException e) {
                end(null);
            } finally {
                writing.unlock();
            }
        }

        private void send(String text) throws IOException {
            writing.lock();
            try {
                if (ended) {
                    throw new IOException("stream ended");
                }
                try (Blocker.Callback written = Blocker.callback()) {
                    response.write(false, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), written);
                    written.block();
                }
            } finally {
                writing.unlock();
            }
        }

        void fail(Throwable cause) {
            end(cause);
        }

        void end() {
            end(null);
        }

        /**
         * Ends the stream once: the response completes (or fails, when the connection did), and the IDLE
         * connection is closed on the waiters' pool (closing it wakes the waiter; it may take a moment).
         */
        private void end(Throwable cause) {
            synchronized (this) {
                if (ended) {
                    return;
                }
                ended = true;
            }
            streams.release();
            waiters.execute(this::closeStore);
            if (cause == null) {
                callback.succeeded();
            } else {
                callback.failed(cause);
            }
        }

        private void closeStore() {
            try {
                IMAPStore s = store;
                if (s != null) {
                    s.close();
                }
            } catch (MessagingException ignored) {
                // Closed either way.
            }
        }
    }
}
