package org.hearth.core.overlay;

import org.hearth.core.SystemTool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two appliances configured with the same interface name on one host, with real wireguard-go
 * interfaces whose UDP sockets stay in a namespace made for the test. The one that finds the other's
 * interface must leave it alone; an interface left by its own earlier run it replaces.
 */
class WireGuardOverlayTest {

    @TempDir
    Path dir;
    private final String suffix = HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
    private final String device = "hwu-" + suffix;
    private final String namespace = "hwu-sock-" + suffix;
    private WireGuardSettings settings;

    @BeforeEach
    void namespaceForTheSockets() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/wireguard-go"))
                && Files.exists(Path.of("/dev/net/tun")), "needs root, wireguard-go and /dev/net/tun");
        SystemTool.run("ip", "netns", "add", namespace);
        settings = new WireGuardSettings(device, "10.86.0.0/24", 51830, Optional.of("198.18.0.1:51830"),
                Optional.of(namespace), null);
    }

    @AfterEach
    void removeWhatTheTestMade() throws Exception {
        if (settings != null) {
            SystemTool.attempt(new byte[0], "ip", "link", "del", device);
            SystemTool.attempt(new byte[0], "ip", "netns", "del", namespace);
        }
    }

    private WireGuardOverlay overlay(String state) {
        return new WireGuardOverlay(settings, registry(state), "198.18.0.1:51830");
    }

    /** Refreshes as the supervisor's passes do until the overlay is up; a start may need a retry on a loaded host. */
    private static OverlayState awaitUp(WireGuardOverlay overlay) throws InterruptedException {
        OverlayState state = overlay.refresh();
        for (int pass = 0; pass < 40 && state.address().isEmpty(); pass++) {
            Thread.sleep(500);
            state = overlay.refresh();
        }
        assertThat(state.address()).as("overlay up, not down for: %s", state.problem().orElse("-")).isPresent();
        return state;
    }

    private WireGuardDevices registry(String state) {
        return new WireGuardDevices(dir.resolve(state), settings.prefix());
    }

    @Test
    void anInterfaceRunningWithAnotherAppliancesKeyIsNeitherReplacedNorTouched() throws Exception {
        WireGuardOverlay first = overlay("first");
        awaitUp(first);
        registry("first").add("phone");
        assertThat(first.refresh().details()).containsEntry("devices", "1");
        String index = Files.readString(Path.of("/sys/class/net", device, "ifindex"));

        WireGuardOverlay second = overlay("second");
        OverlayState refused = second.refresh();
        WireGuardOverlay.applyNow(settings, registry("second"));
        second.close();

        assertThat(refused.address()).isEmpty();
        assertThat(refused.problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("interface " + device + " runs with another key (" + registry("first").appliancePublicKey() + ")")
                .contains("give this appliance its own overlay.wireguard.device"));
        assertThat(Files.readString(Path.of("/sys/class/net", device, "ifindex"))).as("the same interface").isEqualTo(index);
        assertThat(SystemTool.run("wg", "show", device, "peers").strip())
                .as("the first appliance's device is still its peer").isEqualTo(registry("first").list().get(0).publicKey());
        assertThat(first.refresh().address()).isPresent();
    }

    @Test
    void anotherAppliancesInterfaceMadeAfterOursDiedIsNotTakenForOurs() throws Exception {
        WireGuardOverlay first = overlay("first");
        awaitUp(first);
        SystemTool.run("ip", "link", "del", device);
        WireGuardOverlay second = overlay("second");
        awaitUp(second);
        registry("second").add("laptop");
        assertThat(second.refresh().details()).containsEntry("devices", "1");

        OverlayState firstNow = first.refresh();
        first.close();

        assertThat(firstNow.address()).isEmpty();
        assertThat(firstNow.problem()).hasValueSatisfying(p -> assertThat(p).contains("runs with another key ("
                + registry("second").appliancePublicKey() + ")"));
        assertThat(SystemTool.run("wg", "show", device, "peers").strip())
                .isEqualTo(registry("second").list().get(0).publicKey());
        assertThat(second.refresh().address()).as("the second appliance's interface is still up").isPresent();
    }

    @Test
    void anInterfaceLeftByThisAppliancesEarlierRunIsReplaced() throws Exception {
        awaitUp(overlay("mine"));
        String index = Files.readString(Path.of("/sys/class/net", device, "ifindex"));

        // The run that made it died without closing it; the next run starts afresh.
        awaitUp(overlay("mine"));

        assertThat(Files.readString(Path.of("/sys/class/net", device, "ifindex"))).isNotEqualTo(index);
        assertThat(SystemTool.run("wg", "show", device, "public-key").strip()).isEqualTo(registry("mine").appliancePublicKey());
    }

    @Test
    void devicesAddedBeforeTheNetworkChangedAreNamedAndKeptOffTheInterface() throws Exception {
        registry("mine").add("phone");
        WireGuardOverlay before = overlay("mine");
        assertThat(awaitUp(before).details()).containsEntry("devices", "1");
        before.close();

        settings = new WireGuardSettings(device, "10.87.0.0/24", 51830, settings.endpoint(), settings.socketNamespace(), null);
        WireGuardDevices moved = registry("mine");
        String laptop = moved.add("laptop").device().address();
        OverlayState after = awaitUp(overlay("mine"));

        assertThat(laptop).isEqualTo("10.87.0.2");
        assertThat(after.address().map(a -> a.getHostAddress())).contains("10.87.0.1");
        assertThat(after.details()).containsEntry("devices", "1").containsEntry("devices-off-network",
                "phone (10.86.0.2): added before overlay.wireguard.network changed; remove and add them again");
        assertThat(SystemTool.run("wg", "show", device, "allowed-ips")).doesNotContain("10.86.0.2").contains("10.87.0.2/32");
    }
}
