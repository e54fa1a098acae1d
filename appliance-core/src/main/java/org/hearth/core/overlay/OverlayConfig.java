package org.hearth.core.overlay;

import java.net.InetAddress;
import java.nio.file.Path;

/**
 * The appliance config's {@code overlay} section: which provider carries the owner's private
 * network, and each provider's settings.
 *
 * @param provider {@code loopback} (development only), {@code wireguard} or {@code zerotier}
 */
public record OverlayConfig(String provider, WireGuardSettings wireguard, ZeroTierSettings zerotier) {

    public static final String LOOPBACK = "loopback";
    public static final String WIREGUARD = "wireguard";
    public static final String ZEROTIER = "zerotier";

    public OverlayConfig {
        provider = provider == null ? LOOPBACK : provider;
        wireguard = wireguard == null ? WireGuardSettings.defaults() : wireguard;
        zerotier = zerotier == null ? ZeroTierSettings.defaults() : zerotier;
        checkProvider(provider);
    }

    public static OverlayConfig defaults() {
        return new OverlayConfig(null, null, null);
    }

    public OverlayConfig withProvider(String name) {
        return new OverlayConfig(name, wireguard, zerotier);
    }

    static void checkProvider(String name) {
        if (!name.equals(LOOPBACK) && !name.equals(WIREGUARD) && !name.equals(ZEROTIER)) {
            throw new IllegalArgumentException("provider \"" + name + "\" is not one of loopback, wireguard, zerotier");
        }
    }

    /** The WireGuard registry of this appliance's devices. */
    public WireGuardDevices wireGuardDevices(Path state) {
        return new WireGuardDevices(state.resolve("overlay").resolve("wireguard"), wireguard.prefix());
    }

    /** The ZeroTier devices this appliance authorizes on a network it controls. */
    public ZeroTierDevices zeroTierDevices(Path state) {
        return new ZeroTierDevices(state.resolve("overlay").resolve("zerotier"), zerotier);
    }

    /** What devices dial: the configured endpoint, else the public address and listen port. */
    public String wireGuardEndpoint(InetAddress publicAddress) {
        return wireguard.endpoint().orElse(publicAddress.getHostAddress() + ":" + wireguard.listenPort());
    }

    /** The provider this config selects, for a supervisor whose public side is {@code publicAddress}. */
    public OverlayProvider open(Path state, InetAddress publicAddress) {
        return switch (provider) {
            case WIREGUARD -> new WireGuardOverlay(wireguard, wireGuardDevices(state), wireGuardEndpoint(publicAddress));
            case ZEROTIER -> new ZeroTierOverlay(zerotier);
            default -> new LoopbackOverlay();
        };
    }
}
