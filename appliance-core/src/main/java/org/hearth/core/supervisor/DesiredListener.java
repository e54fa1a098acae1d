package org.hearth.core.supervisor;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A listener the installed apps ask for.
 *
 * @param key      unique per listener: {@code app/container/port}, {@code …@overlay} for a public port's
 *                 twin on the overlay, {@code app/container/port/from-client} for a hand-off listener
 * @param bind     empty when its address is unavailable (the overlay is down): it stays closed then
 * @param upstream where each connection goes: the warm pool {@code app/container} when pooled, else the
 *                 service target of that key
 * @param refusal  said to a connection turned away (SMTP: a 421), if anything
 * @param proxyHeader each connection to the upstream starts with a PROXY v2 header naming the client
 * @param perClient most connections one client address may have open at once (0: no ceiling)
 */
record DesiredListener(String key, String app, String container, String port, String exposure,
                       Optional<InetAddress> bind, int listen, boolean pooled, String upstream,
                       Optional<String> refusal, boolean proxyHeader, int perClient) {

    /** What a listener is bound to and how it finds upstreams: a change needs a new listener. */
    String shape() {
        return bind.map(InetAddress::getHostAddress).orElse("-") + ":" + listen + (pooled ? " pooled" : " service")
                + (refusal.isPresent() ? " refusal" : "") + (proxyHeader ? " proxy" : "") + " per-client " + perClient;
    }
}
