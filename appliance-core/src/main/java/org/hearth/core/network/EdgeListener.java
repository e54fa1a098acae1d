package org.hearth.core.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Accepts on a host address and copies bytes both ways to a container on its internal network.
 * It parses nothing, so a hostile client meets the container's parser, never the supervisor's.
 * The upstream is acquired per connection (waiting while a service's container is replaced or
 * restarted): a recreated container gets new connections as soon as it serves, and
 * an ephemeral role hands each connection a fresh container that is released (destroyed) when the
 * connection ends. A connection nobody can take is closed, after a one-line refusal if the port's
 * protocol has one (SMTP's 421), so a sender knows to retry.
 */
public final class EdgeListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeListener.class);
    private static final int CONNECT_TIMEOUT_MS = 3000;
    private static final int MAX_CONNECTIONS = 512;
    /** How long a client may keep its side open after the server has closed its own. */
    private static final long CLIENT_GRACE_MS = 10_000;
    private final long clientGraceMs;

    private final String name;
    private final InetSocketAddress bind;
    private final Upstream.Source upstreams;
    private final Optional<byte[]> refusal;
    private final ExecutorService pool;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final java.util.function.Supplier<ServerSocket> serverSockets;
    private final AcceptBackoff acceptBackoff = new AcceptBackoff();
    private final boolean proxyHeader;
    private final ClientCounts clients;
    private ServerSocket server;

    /** @param name for logs, e.g. {@code mail/smtp-in/smtp} */
    public EdgeListener(String name, InetSocketAddress bind, Upstream.Source upstreams, ExecutorService pool) {
        this(name, bind, upstreams, Optional.empty(), false, 0, pool);
    }

    /**
     * @param refusal     written to a connection that is turned away, before it is closed
     * @param proxyHeader each connection to the upstream starts with a PROXY v2 header naming the client
     * @param perClient   most connections one client address may have open at once (0: no ceiling);
     *                    more are turned away at once, with the refusal
     */
    public EdgeListener(String name, InetSocketAddress bind, Upstream.Source upstreams, Optional<byte[]> refusal,
                        boolean proxyHeader, int perClient, ExecutorService pool) {
        this(name, bind, upstreams, refusal, proxyHeader, perClient, pool, CLIENT_GRACE_MS, EdgeListener::newServerSocket);
    }

    EdgeListener(String name, InetSocketAddress bind, Upstream.Source upstreams, Optional<byte[]> refusal,
                 ExecutorService pool, long clientGraceMs) {
        this(name, bind, upstreams, refusal, false, 0, pool, clientGraceMs, EdgeListener::newServerSocket);
    }

    /** @param serverSockets makes the unbound listening socket (a test's may fail its accepts) */
    EdgeListener(String name, InetSocketAddress bind, Upstream.Source upstreams, Optional<byte[]> refusal,
                 boolean proxyHeader, int perClient, ExecutorService pool, long clientGraceMs,
                 java.util.function.Supplier<ServerSocket> serverSockets) {
        this.serverSockets = serverSockets;
        this.clientGraceMs = clientGraceMs;
        this.name = name;
        this.bind = bind;
        this.upstreams = upstreams;
        this.refusal = refusal;
        this.proxyHeader = proxyHeader;
        this.clients = new ClientCounts(perClient);
        this.pool = pool;
    }

    public synchronized void start() throws IOException {
        ServerSocket s = serverSockets.get();
        s.setReuseAddress(true);
        s.bind(bind, 128);
        server = s;
        pool.execute(this::acceptLoop);
        LOG.info("listener={} event=listening address={}", name, bind);
    }

    private static ServerSocket newServerSocket() {
        try {
            return new ServerSocket();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public InetSocketAddress address() {
        return bind;
    }

    public long accepted() {
        return accepted.get();
    }

    public long refused() {
        return refused.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
                acceptBackoff.failed(String.valueOf(e.getMessage())).forEach(line -> LOG.warn("listener={} {}", name, line));
                try {
                    Thread.sleep(acceptBackoff.waitMs());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                continue;
            }
            acceptBackoff.succeeded().forEach(line -> LOG.info("listener={} {}", name, line));
            accepted.incrementAndGet();
            if (!slots.tryAcquire()) {
                refused.incrementAndGet();
                closeQuietly(client);
                continue;
            }
            pool.execute(() -> {
                try {
                    forward(client);
                } finally {
                    slots.release();
                }
            });
        }
    }

    private void forward(Socket client) {
        open.add(client);
        InetAddress from = client.getInetAddress();
        if (!clients.enter(from)) {
            LOG.info("listener={} event=per-client-limit client={}", name, from.getHostAddress());
            refuse(client);
            return;
        }
        try {
            forwardCounted(client);
        } finally {
            // When the client's side ends: a server that keeps writing after that is not the client's session.
            clients.leave(from);
        }
    }

    private void forwardCounted(Socket client) {
        Optional<Upstream> acquired = upstreams.acquire();
        if (acquired.isEmpty()) {
            refuse(client);
            return;
        }
        Upstream to = acquired.get();
        Socket upstream = new Socket();
        open.add(upstream);
        try {
            upstream.connect(to.address(), CONNECT_TIMEOUT_MS);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            if (proxyHeader) {
                upstream.getOutputStream().write(ProxyHeader.of((InetSocketAddress) client.getRemoteSocketAddress(),
                        (InetSocketAddress) client.getLocalSocketAddress()));
            }
        } catch (IOException e) {
            LOG.warn("listener={} event=upstream-failed target={} error={}", name, to.address(), e.getMessage());
            closeQuietly(upstream);
            to.release();
            refuse(client);
            return;
        }
        AtomicInteger directionsDone = new AtomicInteger();
        // Released once both copies have returned: the connection is over and its container may go.
        AtomicInteger copiesReturned = new AtomicInteger();
        Runnable returned = () -> {
            if (copiesReturned.incrementAndGet() == 2) {
                to.release();
            }
        };
        CountDownLatch clientSideDone = new CountDownLatch(1);
        try {
            pool.execute(() -> {
                try {
                    pump(upstream, client, directionsDone);
                    // The server is done: a client that never closes must not hold the container for ever.
                    if (!awaitQuietly(clientSideDone, clientGraceMs)) {
                        closeQuietly(client);
                        closeQuietly(upstream);
                    }
                } finally {
                    returned.run();
                }
            });
        } catch (RejectedExecutionException e) {
            closeQuietly(client);
            closeQuietly(upstream);
            to.release();
            return;
        }
        try {
            pump(client, upstream, directionsDone);
        } finally {
            clientSideDone.countDown();
            returned.run();
        }
    }

    private static boolean awaitQuietly(CountDownLatch latch, long millis) {
        try {
            return latch.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void refuse(Socket client) {
        refused.incrementAndGet();
        if (refusal.isPresent()) {
            try {
                client.setSoTimeout(1000);
                client.getOutputStream().write(refusal.get());
                client.getOutputStream().flush();
            } catch (IOException e) {
                // The client left before hearing why: nothing more to tell it.
            }
        }
        closeQuietly(client);
    }

    /**
     * Copies until end of stream, then half-closes the other side so its peer sees EOF too; the
     * sockets close when both directions are done, or at once on an error (a reset, a killed
     * container), which also ends the other direction's copy.
     */
    private void pump(Socket from, Socket to, AtomicInteger directionsDone) {
        byte[] buffer = new byte[32 * 1024];
        boolean clean = false;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
            clean = true;
        } catch (IOException e) {
            // A reset or close from either side ends the whole connection.
        }
        if (!clean || directionsDone.incrementAndGet() == 2) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException e) {
            // Closing cannot lose data that was not already lost.
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                // Nothing to do: the socket is gone either way.
            }
        }
        open.forEach(this::closeQuietly);
        LOG.info("listener={} event=closed address={}", name, bind);
    }
}
