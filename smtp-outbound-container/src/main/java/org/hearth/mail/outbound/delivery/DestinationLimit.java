package org.hearth.mail.outbound.delivery;

import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code perDestination} sessions at once to one destination (a domain, or the local
 * store), as Postfix's destination concurrency limit: a remote server sees a polite sender, and
 * one slow destination cannot take every delivery worker. Counts are kept only while in use.
 */
final class DestinationLimit {

    private final int perDestination;
    private final Map<String, Integer> inUse = new HashMap<>();

    DestinationLimit(int perDestination) {
        if (perDestination < 1) {
            throw new IllegalArgumentException("a destination needs at least one session: " + perDestination);
        }
        this.perDestination = perDestination;
    }

    synchronized void acquire(String destination) throws InterruptedException {
        while (inUse.getOrDefault(destination, 0) >= perDestination) {
            wait();
        }
        inUse.merge(destination, 1, Integer::sum);
    }

    synchronized void release(String destination) {
        if (inUse.merge(destination, -1, Integer::sum) <= 0) {
            inUse.remove(destination);
        }
        notifyAll();
    }
}
