package org.hearth.core.overlay;

import org.hearth.core.OwnerOnlyFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The owner's devices on the WireGuard overlay, kept in {@code devices.json} beside the
 * appliance's own key (both readable by root only). A device's private key is made here, shown
 * once in its configuration and never kept: a lost phone is removed and a new one added.
 */
public final class WireGuardDevices {

    /** @param address the device's overlay address; the appliance routes only this /32 to it */
    public record Device(String name, String publicKey, String presharedKey, String address, String added) {
    }

    /** A device just added, with the private key its configuration carries. */
    public record Issued(Device device, String privateKey) {
    }

    private final DeviceRegistry<Device> registry;
    private final Ipv4Prefix network;

    public WireGuardDevices(Path dir, Ipv4Prefix network) {
        this.registry = new DeviceRegistry<>(dir, Device.class);
        this.network = network;
    }

    public List<Device> list() {
        return registry.list();
    }

    /**
     * Whether a device's address is on the configured network. One added before the network was
     * changed is not: its own configuration still names the old addresses, so only re-adding helps.
     */
    public boolean onNetwork(Device device) {
        try {
            return network.contains(InetAddress.getByName(device.address()));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Adds a device under a new name with the lowest free address after the appliance's own. */
    public Issued add(String name) {
        DeviceRegistry.checkName(name);
        return registry.locked(() -> {
            List<Device> devices = new ArrayList<>(list());
            if (devices.stream().anyMatch(d -> d.name().equals(name))) {
                throw new IllegalArgumentException("a device named " + name + " exists already (remove it first to re-issue it)");
            }
            Set<String> taken = new HashSet<>();
            devices.forEach(d -> taken.add(d.address()));
            InetAddress address = null;
            for (int n = 2; n < network.size() - 1 && address == null; n++) {
                String candidate = network.host(n).getHostAddress();
                if (!taken.contains(candidate)) {
                    address = network.host(n);
                }
            }
            if (address == null) {
                throw new IllegalStateException("the overlay " + network + " has no free address for another device");
            }
            String privateKey = WireGuardKeys.newPrivateKey();
            Device device = new Device(name, WireGuardKeys.publicKeyOf(privateKey), WireGuardKeys.newPresharedKey(),
                    address.getHostAddress(), Instant.now().toString());
            devices.add(device);
            registry.write(devices);
            return new Issued(device, privateKey);
        });
    }

    public Optional<Device> remove(String name) {
        return registry.remove(d -> d.name().equals(name), d -> { });
    }

    /** Work on the devices that must see no add or remove until it is done (the interface's peers). */
    public interface LockedWork<T> {
        T run(List<Device> devices) throws IOException;
    }

    public <T> T whileLocked(LockedWork<T> work) throws IOException {
        try {
            return registry.locked(() -> {
                try {
                    return work.run(list());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The appliance's private key, made on first use. */
    public String appliancePrivateKey() {
        Path file = registry.dir().resolve("private.key");
        return registry.locked(() -> {
            try {
                if (!Files.isRegularFile(file)) {
                    OwnerOnlyFile.write(file, WireGuardKeys.newPrivateKey());
                }
                String key = Files.readString(file, StandardCharsets.US_ASCII).strip();
                WireGuardKeys.decode(key, "private key in " + file);
                return key;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot keep the appliance's WireGuard key in " + file, e);
            }
        });
    }

    public String appliancePublicKey() {
        return WireGuardKeys.publicKeyOf(appliancePrivateKey());
    }
}
