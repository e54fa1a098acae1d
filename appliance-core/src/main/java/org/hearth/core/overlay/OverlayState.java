package org.hearth.core.overlay;

import java.net.InetAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the overlay is right now.
 *
 * @param address this appliance's address on the overlay; empty while down (private ports closed)
 * @param device  the host interface that carries the overlay ({@code lo}, {@code hearth-wg}, {@code ztXXXX}):
 *                only packets arriving on it (or from this host) may reach {@code address}
 * @param network the overlay's prefix, such as {@code 10.84.0.0/24}
 * @param problem why the overlay is down, if it is
 * @param details provider facts worth showing in status (endpoint, devices, node id), in display order
 */
public record OverlayState(Optional<InetAddress> address, Optional<String> device, Optional<String> network,
                           Optional<String> problem, Map<String, String> details) {

    public OverlayState {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    public static OverlayState up(InetAddress address, String device, String network, Map<String, String> details) {
        return new OverlayState(Optional.of(address), Optional.of(device), Optional.of(network), Optional.empty(), details);
    }

    public static OverlayState down(String problem, Map<String, String> details) {
        return new OverlayState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(problem), details);
    }
}
