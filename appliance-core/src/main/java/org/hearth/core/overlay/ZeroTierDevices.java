package org.hearth.core.overlay;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The owner's devices on a ZeroTier network this appliance controls: each is a member the
 * controller authorizes, under a name kept here (the controller keeps no names). The owner joins
 * the network in the device's ZeroTier app, reads its 10-digit address there, and adds it by name.
 */
public final class ZeroTierDevices {

    /**
     * @param member  the device's ZeroTier address
     * @param network the network it was authorized on (overlay.zerotier.network may change since)
     */
    public record Device(String name, String member, String network, String added) {
    }

    /** A member of the network as the controller sees it, with its name here if it has one. */
    public record Member(Optional<String> name, String id, boolean authorized, List<String> addresses) {
    }

    private final DeviceRegistry<Device> registry;
    private final ZeroTierSettings settings;
    private final ZeroTierController controller;

    public ZeroTierDevices(Path dir, ZeroTierSettings settings) {
        this.registry = new DeviceRegistry<>(dir, Device.class);
        this.settings = settings;
        this.controller = new ZeroTierController(settings);
    }

    /**
     * Creates a private network on this appliance's own controller, with addresses from {@code prefix},
     * and authorizes the appliance itself on it (a private network admits even its controller's node
     * only when authorized). Returns the network id to put in {@code overlay.zerotier.network}.
     */
    public static String createNetwork(ZeroTierSettings settings, String name, String prefix) {
        ZeroTierController controller = new ZeroTierController(settings);
        String network = controller.createNetwork(name, prefix);
        controller.authorize(network, controller.nodeId());
        return network;
    }

    /** Authorizes {@code member} on the configured network and keeps it as {@code name}. */
    public Device add(String name, String member) {
        DeviceRegistry.checkName(name);
        String id = ZeroTierIds.node("member", member);
        String network = controlledNetwork();
        return registry.locked(() -> {
            List<Device> devices = new ArrayList<>(registry.list());
            for (Device d : devices) {
                if (d.name().equals(name)) {
                    throw new IllegalArgumentException("a device named " + name + " exists already (" + d.member() + ")");
                }
                if (d.member().equals(id) && d.network().equals(network)) {
                    throw new IllegalArgumentException("member " + id + " is the device " + d.name() + " already");
                }
            }
            controller.authorize(network, id);
            Device added = new Device(name, id, network, Instant.now().toString());
            devices.add(added);
            registry.write(devices);
            return added;
        });
    }

    /** Deauthorizes the device on its network, which drops it at once, then forgets it. */
    public Optional<Device> remove(String name) {
        return registry.remove(d -> d.name().equals(name), d -> controller.deauthorize(d.network(), d.member()));
    }

    public List<Device> list() {
        return registry.list();
    }

    /**
     * Every member of the network, named devices first; the rest asked to join (or were authorized
     * elsewhere, as the appliance itself is).
     */
    public List<Member> members() {
        String network = controlledNetwork();
        Map<String, String> names = registry.list().stream().filter(d -> d.network().equals(network))
                .collect(Collectors.toMap(Device::member, Device::name, (a, b) -> a));
        List<Member> out = new ArrayList<>();
        for (ZeroTierController.Member m : controller.members(network)) {
            out.add(new Member(Optional.ofNullable(names.get(m.id())), m.id(), m.authorized(), m.ipAssignments()));
        }
        out.sort((a, b) -> Boolean.compare(a.name().isEmpty(), b.name().isEmpty()));
        return out;
    }

    /** Devices authorized on another network than the configured one (it was changed since): to be removed. */
    public List<Device> onOtherNetworks() {
        return registry.list().stream().filter(d -> !d.network().equals(settings.network().orElse(""))).toList();
    }

    /** The configured network, which must be one this appliance's controller hosts. */
    private String controlledNetwork() {
        String network = settings.network().orElseThrow(() -> new IllegalArgumentException(
                "overlay.zerotier.network is not set: create a network (hearth overlay zerotier create-network)"
                        + " or set the id of the one this appliance joins"));
        String node = controller.nodeId();
        if (!network.startsWith(node)) {
            throw new ZeroTierException("network " + network + " is controlled by node " + network.substring(0, 10)
                    + ", not by this appliance (" + node + "): authorize devices at that controller");
        }
        return network;
    }
}
