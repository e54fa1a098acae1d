package org.hearth.core.ephemeral;

import org.hearth.core.Backoff;
import org.hearth.core.network.Upstream;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.runtime.ReadinessProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Fresh containers of one ephemeral role, each handed exactly one connection and destroyed after
 * it. The pool keeps {@code warm} of them started and accepting, so a connection never waits for a
 * container start while one is ready; it never lets more than {@code ceiling} live at once, so a
 * flood costs bounded memory and waits (then is turned away) instead.
 *
 * <p>A container is never returned to the pool: {@link Lease#release()} destroys it. Containers
 * this pool did not make (an earlier supervisor's) are destroyed on sight, since nobody knows what
 * they served.
 */
public final class WarmPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WarmPool.class);
    private static final Duration PROBE_EVERY = Duration.ofMillis(20);
    /** The longest one probe may wait (for a greeting); the pool's readiness deadline bounds the whole. */
    private static final Duration PROBE_WAIT = Duration.ofSeconds(10);
    /** After failed starts in a row: 1 s, doubling, up to 30 s before the next try. */
    private static final Backoff START_BACKOFF = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
    /**
     * Starts are CPU-bound (engine, JVM or Perl start-up): more at once than there are cores only
     * makes every one of them late, so a burst's first waiters get their containers soonest this way.
     */
    private static final Semaphore START_SLOTS = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()));

    private final String name;
    private PoolSettings settings;
    private final ContainerRuntime runtime;
    private final String network;
    private final int port;
    private final ReadinessProbe ready;
    private final ExecutorService workers;
    /** Marks this pool's containers, so any other container of the role is known to be stale. */
    private final String nonce = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12);

    private ContainerSpec spec;
    private String specHash;
    private final Deque<Ready> warm = new ArrayDeque<>();
    private final Set<String> inUse = new HashSet<>();
    /** Created but not yet ready; their ids, once known, so the sweep leaves them alone. */
    private final Set<String> startingIds = new HashSet<>();
    private int starting;
    /** Ids being removed now; one removal per id at a time, each counted against the ceiling. */
    private final Set<String> removing = new HashSet<>();
    /** Ids whose removal failed: still on the engine, still counted, removed again by the sweep. */
    private final Set<String> leftovers = new HashSet<>();
    private int waiters;
    private final PoolMetrics metrics = new PoolMetrics();
    private int failuresInARow;
    /** After a failed start, nothing starts before this (nanoTime) while {@code backingOff}. */
    private long noStartsBefore;
    private boolean backingOff;
    private Optional<String> problem = Optional.empty();
    private boolean closed;

    private record Ready(String id, InetSocketAddress address, String specHash) {
    }

    /**
     * @param name    for logs and status, e.g. {@code mail/smtp-in}
     * @param network the engine network the supervisor reaches the containers on
     * @param port    the container port each connection goes to
     * @param ready   when a fresh container may be handed a connection (accepting on the port, or greeting on it)
     */
    public WarmPool(String name, PoolSettings settings, ContainerRuntime runtime, String network, int port,
                    ReadinessProbe ready, ExecutorService workers) {
        this.name = name;
        this.settings = settings;
        this.runtime = runtime;
        this.network = network;
        this.port = port;
        this.ready = ready;
        this.workers = workers;
    }

    public synchronized PoolSettings settings() {
        return settings;
    }

    /** New sizes apply at once; containers in use finish their connections, surplus warm ones go at the next sweep. */
    public synchronized void useSettings(PoolSettings newSettings) {
        settings = newSettings;
        notifyAll();
        fill();
    }

    /** Sets what new containers run; warm ones from another spec are destroyed, in-use ones finish first. */
    public synchronized void useSpec(ContainerSpec newSpec, String hash) {
        if (hash.equals(specHash)) {
            return;
        }
        spec = newSpec.withLabel(HearthLabels.POOL, nonce).withLabel(HearthLabels.SPEC_HASH, hash);
        specHash = hash;
        for (var it = warm.iterator(); it.hasNext(); ) {
            Ready r = it.next();
            if (!r.specHash().equals(hash)) {
                it.remove();
                destroy(r.id(), "spec-changed");
            }
        }
        failuresInARow = 0;
        backingOff = false;
        fill();
    }

    /**
     * Hands out a warm container for one connection, waiting up to the pool's wait for one; empty
     * when none came in time. The caller must {@link Lease#release()} it when the connection ends.
     */
    public Optional<Upstream> claim() {
        long start = System.nanoTime();
        long deadline = start + settings.maxWait().toNanos();
        synchronized (this) {
            waiters++;
            try {
                while (warm.isEmpty()) {
                    fill();
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || closed) {
                        metrics.turnedAway();
                        LOG.info("pool={} event=turned-away waited_ms={} in_use={} ceiling={}", name,
                                (System.nanoTime() - start) / 1_000_000, inUse.size(), settings.ceiling());
                        return Optional.empty();
                    }
                    wait(Math.max(1, left / 1_000_000));
                }
                Ready r = warm.pollFirst();
                inUse.add(r.id());
                long took = System.nanoTime() - start;
                metrics.handedOff(took);
                LOG.debug("pool={} event=handed-off id={} ms={}", name, r.id().substring(0, 12), took / 1_000_000);
                return Optional.of(new Lease(r));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } finally {
                waiters--;
                fill();
            }
        }
    }

    /** One container, one connection; released means destroyed. */
    private final class Lease implements Upstream {
        private final Ready ready;
        private boolean released;

        Lease(Ready ready) {
            this.ready = ready;
        }

        @Override
        public InetSocketAddress address() {
            return ready.address();
        }

        @Override
        public void release() {
            synchronized (WarmPool.this) {
                if (released) {
                    return;
                }
                released = true;
                inUse.remove(ready.id());
                destroy(ready.id(), "served");
            }
        }
    }

    /**
     * Called once per reconcile pass with the engine's containers of this role: drops warm
     * containers that died, destroys containers that are not this pool's, trims warm containers
     * beyond the pool's size, and restarts filling after a failure's back-off.
     */
    public void sweep(List<ContainerInfo> ofRole) {
        List<String> seemDead = new ArrayList<>();
        synchronized (this) {
            Set<String> warmIds = new HashSet<>();
            warm.forEach(r -> warmIds.add(r.id()));
            for (ContainerInfo info : ofRole) {
                boolean mine = nonce.equals(info.labels().get(HearthLabels.POOL));
                if (!mine || leftovers.contains(info.id())) {
                    destroy(info.id(), mine ? "removal-retried" : "not-this-pool");
                } else if (warmIds.contains(info.id()) && !info.running()) {
                    seemDead.add(info.id());
                }
            }
            leftovers.retainAll(ofRole.stream().map(ContainerInfo::id).toList());
        }
        // The list was taken before this pass's other work: ask again before calling a warm container dead.
        for (String id : seemDead) {
            boolean dead = runtime.container(id).map(i -> !i.running()).orElse(true);
            synchronized (this) {
                if (dead && warm.removeIf(r -> r.id().equals(id))) {
                    metrics.failed();
                    destroy(id, "died-while-warm");
                }
            }
        }
        synchronized (this) {
            // A burst starts containers for its waiters; once it is over the pool shrinks back to its size.
            while (warm.size() > settings.warm() + waiters) {
                destroy(warm.pollLast().id(), "surplus");
            }
            fill();
            metrics.logSummary(name, warm.size(), starting, inUse.size(), settings.ceiling());
        }
    }

    /** Starts containers until warm plus waiting demand is covered, never past the ceiling. */
    private void fill() {
        if (closed || spec == null || (backingOff && System.nanoTime() - noStartsBefore < 0)) {
            return;
        }
        int room = settings.ceiling() - inUse.size() - removing.size() - leftovers.size();
        int want = Math.min(room, settings.warm() + waiters);
        for (int i = warm.size() + starting; i < want; i++) {
            starting++;
            ContainerSpec s = spec;
            String hash = specHash;
            workers.execute(() -> start(s, hash));
        }
    }

    private void start(ContainerSpec s, String hash) {
        try {
            START_SLOTS.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (this) {
                starting--;
            }
            return;
        }
        try {
            startNow(s, hash);
        } finally {
            START_SLOTS.release();
        }
    }

    private void startNow(ContainerSpec s, String hash) {
        long begin = System.nanoTime();
        String id = null;
        try {
            id = runtime.create(s);
            synchronized (this) {
                startingIds.add(id);
            }
            runtime.start(id);
            ContainerInfo started = runtime.container(id)
                    .orElseThrow(() -> new IllegalStateException("container vanished as it started"));
            String ip = Optional.ofNullable(started.addresses().get(network))
                    .orElseThrow(() -> new IllegalStateException("container has no address on " + network));
            InetSocketAddress address = new InetSocketAddress(ip, port);
            awaitReady(started, begin);
            long took = System.nanoTime() - begin;
            synchronized (this) {
                starting--;
                startingIds.remove(id);
                metrics.created(took);
                failuresInARow = 0;
                backingOff = false;
                problem = Optional.empty();
                if (closed || !hash.equals(specHash)) {
                    destroy(id, "spec-changed");
                } else {
                    warm.addLast(new Ready(id, address, hash));
                    LOG.debug("pool={} event=warm id={} ms={}", name, id.substring(0, 12), took / 1_000_000);
                }
                notifyAll();
                fill();
            }
        } catch (RuntimeException | IOException e) {
            synchronized (this) {
                starting--;
                metrics.failed();
                failuresInARow++;
                noStartsBefore = System.nanoTime() + START_BACKOFF.after(failuresInARow).toNanos();
                backingOff = true;
                problem = Optional.of("cannot start a fresh container: " + e.getMessage());
                LOG.warn("pool={} event=start-failed failures_in_a_row={} error={}", name, failuresInARow, e.getMessage());
                if (id != null) {
                    startingIds.remove(id);
                    destroy(id, "start-failed");
                }
                notifyAll();
            }
        }
    }

    /**
     * Asks the pool's probe until the fresh container is ready. Greeting probes matter here: the
     * first session also runs the JVM's connection code once, so the client's connection does not
     * pay for its loading.
     */
    private void awaitReady(ContainerInfo started, long begin) throws IOException {
        long deadline = begin + settings.readyWithin().toNanos();
        for (int attempt = 1; ; attempt++) {
            Duration left = Duration.ofNanos(Math.max(1_000_000, Math.min(PROBE_WAIT.toNanos(), deadline - System.nanoTime())));
            Optional<String> notYet = ready.check(started, left);
            if (notYet.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("not ready within " + settings.readyWithin().toSeconds() + " s: " + notYet.get());
            }
            // Asking the engine costs it CPU the starting container needs: only every half second.
            if (attempt % 25 == 0 && runtime.container(started.id()).map(i -> !i.running()).orElse(true)) {
                throw new IOException("exited before it was ready: " + notYet.get());
            }
            try {
                Thread.sleep(PROBE_EVERY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the container");
            }
        }
    }

    /** Must hold the monitor. Removal runs in the background and counts against the ceiling until done. */
    private void destroy(String id, String reason) {
        if (!removing.add(id)) {
            return;
        }
        leftovers.remove(id);
        Runnable removal = () -> {
            boolean removed = true;
            try {
                runtime.remove(id);
            } catch (RuntimeException e) {
                removed = false;
                LOG.warn("pool={} event=destroy-failed id={} error={}", name, id.substring(0, 12), e.getMessage());
            }
            synchronized (this) {
                removing.remove(id);
                if (removed) {
                    metrics.destroyed(1);
                    LOG.debug("pool={} event=destroyed id={} reason={}", name, id.substring(0, 12), reason);
                } else {
                    leftovers.add(id);
                }
                notifyAll();
                fill();
            }
        };
        try {
            workers.execute(removal);
        } catch (RejectedExecutionException e) {
            // The supervisor is shutting down: remove it here rather than leave it behind.
            removal.run();
        }
    }

    public synchronized PoolStatus status() {
        return metrics.status(warm.size(), starting, inUse.size(), waiters, settings, problem);
    }

    /**
     * Destroys the warm containers, then waits (up to {@code grace}) for connections in use to end,
     * starts to finish and removals to complete, so nothing this pool made is left behind.
     */
    public void close(Duration grace) {
        List<Ready> left;
        synchronized (this) {
            closed = true;
            left = List.copyOf(warm);
            warm.clear();
            notifyAll();
        }
        for (Ready r : left) {
            runtime.remove(r.id());
        }
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            metrics.destroyed(left.size());
            try {
                while (inUse.size() + starting + removing.size() > 0 && System.nanoTime() - deadline < 0) {
                    wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.info("pool={} event=closed destroyed={} still_in_use={} still_starting={} still_removing={}", name,
                    left.size(), inUse.size(), starting, removing.size());
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(15));
    }
}
