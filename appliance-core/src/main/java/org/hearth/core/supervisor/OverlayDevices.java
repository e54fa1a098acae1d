package org.hearth.core.supervisor;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.overlay.OverlayConfig;
import org.hearth.core.overlay.WireGuardDeviceConfig;
import org.hearth.core.overlay.WireGuardDevices;
import org.hearth.core.overlay.WireGuardOverlay;
import org.hearth.core.overlay.ZeroTierDevices;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;

/**
 * The owner's devices on the overlay, changed only here in the daemon: WireGuard peers (the
 * interface learns them at once), or members of a ZeroTier network this appliance controls. The
 * settings are the state folder's, whichever provider runs now, so devices can be added ahead.
 */
public final class OverlayDevices {

    private static final Logger LOG = LoggerFactory.getLogger(OverlayDevices.class);
    /** One supervisor, one state folder: its CLI, its pairing and its owner app change devices one at a time. */
    private static final Object CHANGES = new Object();

    private final HearthHome home;
    private final InetAddress publicAddress;

    public OverlayDevices(HearthHome home, InetAddress publicAddress) {
        this.home = home;
        this.publicAddress = publicAddress;
    }

    /** A device added: the message, and for WireGuard its configuration (with its private key, not kept here). */
    public record Added(String message, Optional<String> configuration) {
    }

    public Added add(String name, Optional<String> zeroTierMember) {
        synchronized (CHANGES) {
            OverlayConfig config = ApplianceConfig.read(home).overlay();
            WireGuardDevices wireGuard = config.wireGuardDevices(home.state());
            ZeroTierDevices zeroTier = config.zeroTierDevices(home.state());
            boolean isWireGuard = wireGuard.list().stream().anyMatch(d -> d.name().equals(name));
            if (isWireGuard || zeroTier.list().stream().anyMatch(d -> d.name().equals(name))) {
                throw new IllegalArgumentException("a device named " + name + " exists already (" + (isWireGuard
                        ? "WireGuard" : "ZeroTier") + "; remove it first to re-issue it)");
            }
            if (zeroTierMember.isPresent()) {
                ZeroTierDevices.Device d = zeroTier.add(name, zeroTierMember.get());
                LOG.info("event=device-added provider=zerotier name={} member={}", name, d.member());
                return new Added("device " + name + " (ZeroTier member " + d.member() + ") authorized on network "
                        + config.zerotier().network().orElseThrow() + "; it gets its overlay address from"
                        + " the network's pool (hearth overlay device list)", Optional.empty());
            }
            String endpoint = config.wireGuardEndpoint(publicAddress);
            WireGuardDevices.Issued issued = wireGuard.add(name);
            String text = WireGuardDeviceConfig.render(issued, wireGuard.appliancePublicKey(), config.wireguard(), endpoint);
            String message = "device " + name + " added: overlay address " + issued.device().address()
                    + ", public key " + issued.device().publicKey();
            try {
                WireGuardOverlay.applyNow(config.wireguard(), wireGuard);
            } catch (IOException e) {
                message += "\n(registered, but not yet on the interface: " + e.getMessage() + "; the overlay adds it"
                        + " within a second)";
            }
            LOG.info("event=device-added provider=wireguard name={} address={}", name, issued.device().address());
            return new Added(message, Optional.of(text));
        }
    }

    /** One of the owner's devices: its name, its overlay address (empty until a ZeroTier member has one), and by which provider. */
    public record Device(String name, Optional<String> address, String provider) {
    }

    public java.util.List<Device> list() {
        synchronized (CHANGES) {
            OverlayConfig config = ApplianceConfig.read(home).overlay();
            java.util.List<Device> all = new java.util.ArrayList<>();
            config.wireGuardDevices(home.state()).list().forEach(d -> all.add(new Device(d.name(), Optional.of(d.address()),
                    "wireguard")));
            config.zeroTierDevices(home.state()).list().forEach(d -> all.add(new Device(d.name(), Optional.empty(), "zerotier")));
            return all;
        }
    }

    public boolean has(String name) {
        synchronized (CHANGES) {
            OverlayConfig config = ApplianceConfig.read(home).overlay();
            return config.wireGuardDevices(home.state()).list().stream().anyMatch(d -> d.name().equals(name))
                    || config.zeroTierDevices(home.state()).list().stream().anyMatch(d -> d.name().equals(name));
        }
    }

    public String remove(String name) throws IOException {
        synchronized (CHANGES) {
            OverlayConfig config = ApplianceConfig.read(home).overlay();
            Optional<ZeroTierDevices.Device> member = config.zeroTierDevices(home.state()).remove(name);
            if (member.isPresent()) {
                LOG.info("event=device-removed provider=zerotier name={}", name);
                return "device " + name + " removed and deauthorized (ZeroTier member " + member.get().member() + ")";
            }
            WireGuardDevices devices = config.wireGuardDevices(home.state());
            Optional<WireGuardDevices.Device> gone = devices.remove(name);
            if (gone.isEmpty()) {
                throw new IllegalArgumentException("no device named " + name + " (hearth overlay device list)");
            }
            WireGuardOverlay.applyNow(config.wireguard(), devices);
            LOG.info("event=device-removed provider=wireguard name={}", name);
            return "device " + name + " removed and revoked (" + gone.get().address() + ", key " + gone.get().publicKey() + ")";
        }
    }
}
