package org.hearth.registry;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code perClient} actions per client, and {@code overall} for everyone together, in each
 * {@code window} (fixed windows; all counts start again with the next). An IPv6 client counts by
 * its /64, the block one home gets, so a box cannot become thousands of clients by changing its
 * interface id. Memory holds the current window's clients only.
 */
final class RateLimit {

    private final int perClient;
    private final int overall;
    private final Duration window;
    private final Map<String, Integer> counts = new HashMap<>();
    private long currentWindow = -1;
    private int total;

    RateLimit(int perClient, int overall, Duration window) {
        this.perClient = perClient;
        this.overall = overall;
        this.window = window;
    }

    synchronized boolean allow(String client, Instant now) {
        long w = now.toEpochMilli() / window.toMillis();
        if (w != currentWindow) {
            counts.clear();
            total = 0;
            currentWindow = w;
        }
        String key = key(client);
        int used = counts.getOrDefault(key, 0);
        if (used >= perClient || total >= overall) {
            return false;
        }
        counts.put(key, used + 1);
        total++;
        return true;
    }

    /** The client's address, or for IPv6 its /64. */
    static String key(String client) {
        if (!client.contains(":")) {
            return client;
        }
        try {
            InetAddress a = InetAddress.getByName(client);
            if (!(a instanceof Inet6Address)) {
                return a.getHostAddress();
            }
            byte[] b = a.getAddress();
            StringBuilder prefix = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                prefix.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            }
            return prefix + ":/64";
        } catch (UnknownHostException e) {
            return client;
        }
    }
}
