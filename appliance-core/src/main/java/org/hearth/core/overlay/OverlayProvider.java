package org.hearth.core.overlay;

import java.net.InetAddress;
import java.util.Optional;

/**
 * The owner's private network. Private ports listen only on its address; while it has none
 * (down, not joined yet), private ports are closed rather than bound anywhere else.
 */
public interface OverlayProvider {

    /** "loopback", "wireguard", "zerotier". */
    String name();

    /** This appliance's address on the overlay, or empty while the overlay is down. */
    Optional<InetAddress> address();

    /** True for providers that give no real privacy (loopback): shown as such in status. */
    boolean developmentOnly();
}
