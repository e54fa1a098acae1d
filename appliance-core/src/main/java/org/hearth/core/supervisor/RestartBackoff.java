package org.hearth.core.supervisor;

import org.hearth.core.Backoff;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * When a crashed container may be started again: at once the first time, then after doubling
 * delays up to 30 s. More than {@link #CRASH_LOOP} restarts within ten minutes is a crash loop,
 * reported in status (and still retried, slowly).
 */
final class RestartBackoff {

    static final int CRASH_LOOP = 5;
    private static final Duration WINDOW = Duration.ofMinutes(10);
    private static final Backoff DELAYS = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

    private final Map<String, Deque<Instant>> restarts = new HashMap<>();
    private final Map<String, Integer> totals = new HashMap<>();

    boolean mayRestart(String key, Instant now) {
        Deque<Instant> recent = recent(key, now);
        if (recent.isEmpty()) {
            return true;
        }
        return !now.isBefore(recent.peekLast().plus(DELAYS.after(recent.size())));
    }

    void restarted(String key, Instant now) {
        recent(key, now).addLast(now);
        totals.merge(key, 1, Integer::sum);
    }

    int total(String key) {
        return totals.getOrDefault(key, 0);
    }

    boolean crashLooping(String key, Instant now) {
        return recent(key, now).size() > CRASH_LOOP;
    }

    void forget(String key) {
        restarts.remove(key);
        totals.remove(key);
    }

    private Deque<Instant> recent(String key, Instant now) {
        Deque<Instant> times = restarts.computeIfAbsent(key, k -> new ArrayDeque<>());
        while (!times.isEmpty() && times.peekFirst().isBefore(now.minus(WINDOW))) {
            times.removeFirst();
        }
        return times;
    }
}
