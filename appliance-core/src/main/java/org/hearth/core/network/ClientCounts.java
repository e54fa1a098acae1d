package org.hearth.core.network;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open connections per client address on one listener, against a ceiling: one sender (or a handful
 * of silent clients from one address) cannot take every session the box has.
 */
final class ClientCounts {

    private final int ceiling;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    /** @param ceiling most connections one address may have open at once; 0 means no ceiling */
    ClientCounts(int ceiling) {
        this.ceiling = ceiling;
    }

    /** Counts a new connection from {@code client}; false (and not counted) if it is over the ceiling. */
    boolean enter(InetAddress client) {
        if (ceiling == 0) {
            return true;
        }
        boolean[] admitted = {false};
        open.compute(client, (address, n) -> {
            int now = n == null ? 0 : n;
            admitted[0] = now < ceiling;
            return admitted[0] ? now + 1 : (n == null ? null : n);
        });
        return admitted[0];
    }

    /** A connection {@link #enter} admitted has ended. */
    void leave(InetAddress client) {
        if (ceiling != 0) {
            open.computeIfPresent(client, (address, n) -> n <= 1 ? null : n - 1);
        }
    }
}
