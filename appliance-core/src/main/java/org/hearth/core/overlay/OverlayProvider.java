package org.hearth.core.overlay;

/**
 * The owner's private network. Private ports listen only on its address; while it has none
 * (down, not joined yet, not authorized), private ports are closed rather than bound anywhere else.
 */
public interface OverlayProvider extends AutoCloseable {

    /** "loopback", "wireguard", "zerotier". */
    String name();

    /** True for providers that give no real privacy (loopback): shown as such in status. */
    boolean developmentOnly();

    /**
     * Brings the overlay up where this provider owns it, and reports what it is now: called once
     * per supervisor pass, so an address that changes or goes away is noticed within a pass.
     * Trouble is reported in the state, never thrown.
     */
    OverlayState refresh();

    /** The supervisor is stopping: take down what {@link #refresh()} brought up. */
    @Override
    void close();
}
