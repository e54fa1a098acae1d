package org.hearth.registry;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code limit} actions per client in each {@code window} (fixed windows). Windows that have
 * ended are dropped as new ones start, so memory follows the clients of the current window only.
 */
final class RateLimit {

    private record Count(long window, int used) {
    }

    private final int limit;
    private final Duration window;
    private final Map<String, Count> counts = new HashMap<>();

    RateLimit(int limit, Duration window) {
        this.limit = limit;
        this.window = window;
    }

    synchronized boolean allow(String client, Instant now) {
        long current = now.toEpochMilli() / window.toMillis();
        counts.values().removeIf(c -> c.window() < current);
        Count c = counts.getOrDefault(client, new Count(current, 0));
        if (c.used() >= limit) {
            return false;
        }
        counts.put(client, new Count(current, c.used() + 1));
        return true;
    }
}
