package org.hearth.core.supervisor;

import org.hearth.core.ephemeral.WarmPool;
import org.hearth.core.network.Upstream;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** The warm pools of the ephemeral roles, by "app/role", and the threads that fill them. */
final class WarmPools implements AutoCloseable {

    private final Map<String, WarmPool> pools = new ConcurrentHashMap<>();
    private final ExecutorService work = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "warm-pool");
        t.setDaemon(true);
        return t;
    });

    Optional<WarmPool> get(String role) {
        return Optional.ofNullable(pools.get(role));
    }

    /** The role's pool, made by {@code create} (given the pools' threads) if it has none yet. */
    WarmPool getOrCreate(String role, Function<ExecutorService, WarmPool> create) {
        return pools.computeIfAbsent(role, k -> create.apply(work));
    }

    /** A container of the role's pool for one connection; empty if it has no pool or none came in time. */
    Optional<Upstream> claim(String role) {
        return get(role).flatMap(WarmPool::claim);
    }

    /** Closes the pools of roles no longer declared. */
    void retain(Set<String> roles) {
        pools.keySet().stream().filter(k -> !roles.contains(k)).toList().forEach(k -> pools.remove(k).close());
    }

    /** Closes every pool (nothing may outlive the pool that vouches for it), then waits for their threads. */
    @Override
    public void close() {
        pools.values().forEach(WarmPool::close);
        pools.clear();
        work.shutdown();
        try {
            work.awaitTermination(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
