package org.hearth.core.supervisor;

import org.hearth.core.network.EdgeListener;
import org.hearth.core.network.Upstream;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The open edge listeners, kept equal to what the apps ask for, and where each service listener's
 * connections go. Pooled listeners ask the role's warm pool for a fresh container per connection.
 */
final class ListenerSet implements AutoCloseable {

    private final WarmPools pools;
    private final Map<String, EdgeListener> open = new HashMap<>();
    /** Each open listener's {@link DesiredListener#shape()} when it was opened. */
    private final Map<String, String> shapes = new HashMap<>();
    /**
     * How long a new connection waits for a service whose container is starting (replaced by an
     * install or upgrade, or restarted): well inside the five minutes an SMTP client waits for a
     * greeting (RFC 5321 4.5.3.2.1), and long enough for a JVM server to start on a Raspberry Pi 3.
     */
    static final Duration HOLD = Duration.ofSeconds(60);
    /**
     * Where a service's connections go, by upstream ({@code app/container/port}, which a public
     * port's twin on the overlay shares); set by the services step. An empty value means its
     * container is starting: connections wait for it (up to {@link #HOLD}). No entry means nothing
     * runs there: connections are turned away at once. Guarded by itself.
     */
    private final Map<String, Optional<InetSocketAddress>> targets = new HashMap<>();
    /**
     * Upstreams a held connection has waited for since they last had a target or started: for one
     * asleep, that it is {@link #wanted}. Guarded by {@link #targets}.
     */
    private final Set<String> askedFor = new HashSet<>();
    /** Connections open and when the last one ended, by upstream. Guarded by {@link #targets}. */
    private final Map<String, Use> uses = new HashMap<>();
    /**
     * What an upstream with no connection yet counts as its last use: a supervisor restarted beside
     * running containers knows nothing of the connections they had, so it does not stop them at once.
     */
    private final Instant opened = Instant.now();
    /** Set when the service listener of that key closes: its connections waiting for a target give up. */
    private final Map<String, AtomicBoolean> closedFlags = new HashMap<>();
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "edge-connection");
        t.setDaemon(true);
        return t;
    });

    ListenerSet(WarmPools pools) {
        this.pools = pools;
    }

    private static final class Use {
        int open;
        Instant lastEnded = Instant.EPOCH;
    }

    /** Where the service listener {@code key} hands its connections now; empty while nothing runs there. */
    void target(String key, Optional<InetSocketAddress> address) {
        synchronized (targets) {
            address.ifPresentOrElse(a -> targets.put(key, Optional.of(a)), () -> targets.remove(key));
            askedFor.remove(key);
            targets.notifyAll();
        }
    }

    /** The service listener {@code key}'s container is starting: its new connections wait for it. */
    void starting(String key) {
        synchronized (targets) {
            targets.put(key, Optional.empty());
            askedFor.remove(key);
        }
    }

    /**
     * The container behind {@code key} was stopped for being idle: a new connection waits for it, as
     * for one starting, and asks for it ({@link #wanted}).
     */
    void asleep(String key) {
        synchronized (targets) {
            targets.put(key, Optional.empty());
        }
    }

    /** Whether a connection has come for {@code key} since its container was stopped for being idle. */
    boolean wanted(String key) {
        synchronized (targets) {
            return askedFor.contains(key);
        }
    }

    /**
     * Puts {@code keys} {@link #asleep} if none has been used since {@code cutoff} (no connection open,
     * the last one ended before it), in one step: no connection is handed to a container about to stop.
     *
     * @return whether they sleep now
     */
    boolean sleepIfUnusedSince(Collection<String> keys, Instant cutoff) {
        synchronized (targets) {
            for (String key : keys) {
                Use use = uses.get(key);
                if (use == null ? opened.isAfter(cutoff) : use.open > 0 || use.lastEnded.isAfter(cutoff)) {
                    return false;
                }
            }
            keys.forEach(this::asleep);
            return true;
        }
    }

    /**
     * A container at one of {@code hosts} is about to go (replaced): connections that would reach it
     * wait for its successor instead of meeting a removed address.
     *
     * @return the targets changed, with their addresses, for {@link #restore} if it does not go after all
     */
    Map<String, InetSocketAddress> startingInsteadOf(Collection<String> hosts) {
        Map<String, InetSocketAddress> held = new HashMap<>();
        synchronized (targets) {
            targets.forEach((key, t) -> t.filter(a -> hosts.contains(a.getAddress().getHostAddress()))
                    .ifPresent(a -> held.put(key, a)));
            held.keySet().forEach(key -> targets.put(key, Optional.empty()));
        }
        return held;
    }

    /** Puts back targets {@link #startingInsteadOf} turned to starting. */
    void restore(Map<String, InetSocketAddress> held) {
        synchronized (targets) {
            held.forEach((key, a) -> targets.put(key, Optional.of(a)));
            targets.notifyAll();
        }
    }

    /** The service's upstream for one connection, waiting up to {@link #HOLD} while its container starts. */
    private Optional<Upstream> serviceUpstream(String key, AtomicBoolean listenerClosed) {
        long deadline = System.nanoTime() + HOLD.toNanos();
        synchronized (targets) {
            while (true) {
                Optional<InetSocketAddress> target = targets.get(key);
                long left = deadline - System.nanoTime();
                if (listenerClosed.get()) {
                    return Optional.empty();
                }
                if (target == null || target.isPresent() || left <= 0) {
                    return target == null ? Optional.empty() : target.map(a -> counted(key, a));
                }
                askedFor.add(key);
                try {
                    targets.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }
        }
    }

    /** A connection to {@code address}, counted in {@code key}'s use until it ends. Called holding {@link #targets}. */
    private Upstream counted(String key, InetSocketAddress address) {
        uses.computeIfAbsent(key, k -> new Use()).open++;
        return Upstream.fixed(address, () -> {
            synchronized (targets) {
                Use use = uses.get(key);
                use.open--;
                use.lastEnded = Instant.now();
            }
        });
    }

    /**
     * Opens missing listeners and closes unwanted ones, except those of {@code leaveAsIs} apps (whose
     * pass failed: their listeners stay rather than close mid-connection).
     *
     * @param whyClosed why a listener without an address stays closed (the overlay is down)
     * @return a problem per listener that is not open
     */
    synchronized Map<String, String> sync(Collection<DesiredListener> desired, Set<String> leaveAsIs,
                                          String whyClosed) {
        Map<String, DesiredListener> wanted = new HashMap<>();
        desired.forEach(d -> wanted.put(d.key(), d));
        for (var it = open.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (leaveAsIs.contains(entry.getKey().substring(0, entry.getKey().indexOf('/')))) {
                continue;
            }
            DesiredListener want = wanted.get(entry.getKey());
            if (want == null || want.bind().isEmpty() || !want.shape().equals(shapes.get(entry.getKey()))) {
                entry.getValue().close();
                it.remove();
                shapes.remove(entry.getKey());
                markClosed(entry.getKey());
            }
        }
        // A target outlives a listener reopened with other settings (the services step set it this
        // pass); it goes with the last listener that hands connections to it.
        Set<String> upstreams = new HashSet<>();
        desired.stream().filter(d -> !d.pooled()).forEach(d -> upstreams.add(d.upstream()));
        synchronized (targets) {
            targets.keySet().removeIf(k -> !upstreams.contains(k)
                    && !leaveAsIs.contains(k.substring(0, k.indexOf('/'))));
            askedFor.retainAll(targets.keySet());
            uses.entrySet().removeIf(u -> u.getValue().open == 0 && !targets.containsKey(u.getKey()));
            targets.notifyAll();
        }
        Map<String, String> problems = new HashMap<>();
        for (DesiredListener want : desired) {
            if (want.bind().isEmpty()) {
                // Fail closed: no overlay address means no private listener, never a fallback address.
                problems.put(want.key(), whyClosed + ": "
                        + (want.exposure().equals("private") ? "private port closed" : "closed on the overlay"));
                continue;
            }
            if (open.containsKey(want.key())) {
                continue;
            }
            EdgeListener listener = new EdgeListener(want.key(), new InetSocketAddress(want.bind().get(), want.listen()),
                    source(want), want.refusal().map(r -> r.getBytes(StandardCharsets.US_ASCII)), want.proxyHeader(),
                    want.perClient(), connections);
            try {
                listener.start();
                open.put(want.key(), listener);
                shapes.put(want.key(), want.shape());
            } catch (IOException e) {
                problems.put(want.key(), "cannot listen on " + want.bind().get().getHostAddress() + ":"
                        + want.listen() + ": " + e.getMessage());
            }
        }
        return problems;
    }

    private Upstream.Source source(DesiredListener want) {
        String upstream = want.upstream();
        if (want.pooled()) {
            return () -> pools.claim(upstream);
        }
        AtomicBoolean closed = new AtomicBoolean();
        closedFlags.put(want.key(), closed);
        return () -> serviceUpstream(upstream, closed);
    }

    /** The listener {@code key} has closed: its connections still waiting for a target are turned away. */
    private void markClosed(String key) {
        AtomicBoolean closed = closedFlags.remove(key);
        if (closed != null) {
            closed.set(true);
            synchronized (targets) {
                targets.notifyAll();
            }
        }
    }

    /** Closes the listeners bound to an address that went away (the overlay's old one). */
    synchronized void closeOn(InetAddress address) {
        String prefix = address.getHostAddress() + ":";
        shapes.entrySet().removeIf(e -> {
            if (!e.getValue().startsWith(prefix)) {
                return false;
            }
            open.remove(e.getKey()).close();
            markClosed(e.getKey());
            return true;
        });
    }

    /** How a desired listener stands, for the status. */
    synchronized SupervisorStatus.Endpoint endpoint(DesiredListener d, Optional<String> problem) {
        EdgeListener listener = open.get(d.key());
        return new SupervisorStatus.Endpoint(d.container(), d.port(), d.exposure(),
                d.bind().map(InetAddress::getHostAddress).orElse("-"), d.listen(), listener != null,
                listener == null ? 0 : listener.accepted(), listener == null ? 0 : listener.refused(), problem);
    }

    /** Closes every listener; connections in flight are cut. */
    @Override
    public synchronized void close() {
        open.values().forEach(EdgeListener::close);
        open.keySet().forEach(this::markClosed);
        open.clear();
        shapes.clear();
    }

    /** Cuts the connections still being copied (after the listeners closed). */
    void cutConnections() {
        connections.shutdownNow();
    }
}
