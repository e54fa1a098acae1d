package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.overlay.OverlayConfig;
import org.hearth.core.overlay.WireGuardDevices;
import org.hearth.core.overlay.WireGuardOverlay;
import org.hearth.core.overlay.ZeroTierDevices;
import org.hearth.core.supervisor.ControlReply;
import org.hearth.core.supervisor.ControlRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code hearth overlay device add|remove|list}: the owner's devices on the WireGuard overlay, or
 * on a ZeroTier network this appliance controls; {@code hearth overlay zerotier create-network}.
 */
@Command(name = "overlay", mixinStandardHelpOptions = true,
        description = "The owner's private network (provider and settings: overlay in the state folder's "
                + ApplianceConfig.FILE + ").", subcommands = {OverlayCommand.Device.class, OverlayCommand.ZeroTier.class})
final class OverlayCommand {

    @ParentCommand
    HearthCommand root;

    @Command(name = "device", mixinStandardHelpOptions = true,
            description = "The devices allowed on the overlay: WireGuard peers, or with --zerotier members of a ZeroTier"
                    + " network this appliance controls.",
            subcommands = {Add.class, Remove.class, ListDevices.class})
    static final class Device {
        @ParentCommand
        OverlayCommand overlay;

        HearthHome home() {
            return overlay.root.home();
        }

        /** Devices are WireGuard peers; the settings apply whichever provider runs now, so devices can be added ahead. */
        OverlayConfig config() {
            return ApplianceConfig.read(home()).overlay();
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a device: prints its WireGuard configuration and a QR code for the WireGuard app. "
                    + "The device's private key is shown once and not kept.")
    static final class Add implements Callable<Integer> {
        @ParentCommand
        Device group;

        @Parameters(paramLabel = "NAME", description = "A name for the device: phone, laptop, ...")
        String name;

        @Mixin
        QrOptions qr;

        @Option(names = "--zerotier", paramLabel = "MEMBER", description = "Authorize this ZeroTier address (10 hex"
                + " digits, shown in the device's ZeroTier app once it joins) on overlay.zerotier.network instead.")
        Optional<String> zeroTierMember;

        @Override
        public Integer call() throws Exception {
            if (zeroTierMember.isPresent() && qr.png.isPresent()) {
                throw new IllegalArgumentException("--qr-png is for WireGuard devices; a ZeroTier device joins by network id");
            }
            ControlReply reply = ControlClient.send(group.home(), new ControlRequest.AddDevice(name, zeroTierMember));
            System.out.println(reply.message().orElse("device " + name + " added"));
            if (reply.document().isEmpty()) {
                return 0;
            }
            String text = reply.document().get();
            System.out.println("Its configuration holds the device's private key: it is shown once and not kept here.");
            System.out.println();
            System.out.print(text);
            qr.show(text, "Scan it in the WireGuard app: + , Create from QR code.");
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a device: its key is dropped from the running interface at once.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        Device group;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.message(group.home(), new ControlRequest.RemoveDevice(name)));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the devices and their last handshakes.")
    static final class ListDevices implements Callable<Integer> {
        @ParentCommand
        Device group;

        @Override
        public Integer call() throws Exception {
            OverlayConfig config = group.config();
            ZeroTierDevices zeroTier = config.zeroTierDevices(group.home().state());
            boolean showZeroTier = config.provider().equals(OverlayConfig.ZEROTIER) || !zeroTier.list().isEmpty();
            if (showZeroTier) {
                listZeroTier(zeroTier);
            }
            WireGuardDevices registry = config.wireGuardDevices(group.home().state());
            var devices = registry.list();
            if (devices.isEmpty()) {
                if (!showZeroTier) {
                    System.out.println("no devices (add one: hearth overlay device add NAME)");
                }
                return 0;
            }
            Map<String, Long> handshakes = WireGuardOverlay.handshakes(config.wireguard(), registry);
            System.out.printf("%-16s %-15s %-45s %s%n", "NAME", "ADDRESS", "PUBLIC KEY", "LAST HANDSHAKE");
            for (WireGuardDevices.Device d : devices) {
                long at = handshakes.getOrDefault(d.publicKey(), 0L);
                System.out.printf("%-16s %-15s %-45s %s%n", d.name(), d.address(), d.publicKey(),
                        !registry.onNetwork(d) ? "off the network " + config.wireguard().network() + ": re-add it"
                                : at == 0 ? "never" : Instant.ofEpochSecond(at).toString());
            }
            return 0;
        }

        private static void listZeroTier(ZeroTierDevices devices) {
            List<ZeroTierDevices.Member> members;
            try {
                members = devices.members();
            } catch (RuntimeException e) {
                // The names are kept here even when the daemon cannot be asked.
                System.out.println("ZeroTier members unknown: " + e.getMessage());
                devices.list().forEach(d -> System.out.printf("%-16s %-10s%n", d.name(), d.member()));
                return;
            }
            System.out.printf("%-16s %-10s %-11s %s%n", "NAME", "MEMBER", "AUTHORIZED", "ADDRESSES");
            for (ZeroTierDevices.Member m : members) {
                System.out.printf("%-16s %-10s %-11s %s%n", m.name().orElse("-"), m.id(), m.authorized() ? "yes" : "no",
                        m.addresses().isEmpty() ? "none yet" : String.join(" ", m.addresses()));
            }
            members.stream().filter(m -> m.name().isEmpty() && !m.authorized()).forEach(m -> System.out.println(
                    "member " + m.id() + " asked to join: hearth overlay device add NAME --zerotier " + m.id()));
            devices.onOtherNetworks().forEach(d -> System.out.println("device " + d.name() + " (" + d.member()
                    + ") is authorized on network " + d.network() + ", not the configured one: hearth overlay device remove "
                    + d.name()));
        }
    }

    @Command(name = "zerotier", mixinStandardHelpOptions = true,
            description = "This appliance as its own ZeroTier network controller.", subcommands = CreateNetwork.class)
    static final class ZeroTier {
        @ParentCommand
        OverlayCommand overlay;
    }

    @Command(name = "create-network", mixinStandardHelpOptions = true,
            description = "Create a private ZeroTier network on this appliance's controller and authorize the appliance on it.")
    static final class CreateNetwork implements Callable<Integer> {
        @ParentCommand
        ZeroTier group;

        @Option(names = "--name", defaultValue = "hearth", description = "The network's name (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--prefix", defaultValue = "10.147.17.0/24",
                description = "The /24 its members' addresses come from (default: ${DEFAULT-VALUE}).")
        String prefix;

        @Override
        public Integer call() {
            HearthHome home = group.overlay.root.home();
            String network = ZeroTierDevices.createNetwork(ApplianceConfig.read(home).overlay().zerotier(), name, prefix);
            System.out.println("network " + network + " created on this appliance's controller (" + prefix
                    + "), the appliance authorized on it.");
            System.out.println("Select it in " + ApplianceConfig.file(home) + ":");
            System.out.println("overlay:\n  provider: zerotier\n  zerotier:\n    network: " + network);
            System.out.println("then join it from each device's ZeroTier app and add the device:"
                    + " hearth overlay device add NAME --zerotier MEMBER");
            return 0;
        }
    }
}
