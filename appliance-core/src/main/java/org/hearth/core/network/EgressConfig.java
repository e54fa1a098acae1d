package org.hearth.core.network;

import java.util.Arrays;
import java.util.Optional;

/**
 * The appliance config's {@code egress} section: what containers that declare egress may use
 * beyond their ports.
 *
 * @param resolver the DNS resolver (an IPv4 address; port 53) containers with {@code egress: [{to: resolver}]}
 *                 may ask. Unset, they can resolve nothing: container DNS only ever goes to a resolver
 *                 the owner chose, never to whatever the host happens to use.
 * @param relay    the smarthost containers with {@code egress: [{to: relay}]} send through; unset, they
 *                 deliver straight to each domain's MX on port 25
 */
public record EgressConfig(Optional<String> resolver, Optional<RelayConfig> relay) {

    public static final int DNS_PORT = 53;

    public EgressConfig {
        resolver = resolver == null ? Optional.empty() : resolver;
        relay = relay == null ? Optional.empty() : relay;
        resolver.ifPresent(EgressConfig::checkAddress);
    }

    public static EgressConfig defaults() {
        return new EgressConfig(Optional.empty(), Optional.empty());
    }

    /**
     * A name would need a resolver to find the resolver; the engine's networks and the firewall are
     * IPv4. Checked by hand: InetAddress.getByName would look up anything that is not an address.
     */
    private static void checkAddress(String value) {
        boolean ipv4 = value.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                && Arrays.stream(value.split("\\.")).allMatch(octet -> Integer.parseInt(octet) <= 255);
        if (!ipv4) {
            throw new IllegalArgumentException("resolver \"" + value + "\" must be an IPv4 address (for example 192.168.1.1)");
        }
    }
}
