package org.hearth.core.overlay;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The owner's ZeroTier devices against a fake zerotier-one serving the controller part of the
 * daemon's documented JSON API. The daemon itself is not exercised: no ZeroTier package is
 * reachable on the build machine.
 */
class ZeroTierDevicesTest {

    private static final String PHONE = "a1b2c3d4e5";
    private static final String LAPTOP = "0f0e0d0c0b";

    @TempDir
    Path home;
    @TempDir
    Path state;
    private FakeZeroTierOne daemon;
    private String network;
    private ZeroTierDevices devices;

    @BeforeEach
    void networkOnThisAppliancesController() throws IOException {
        daemon = new FakeZeroTierOne(home);
        network = ZeroTierDevices.createNetwork(new ZeroTierSettings(Optional.empty(), daemon.api(), home),
                "hearth", "10.147.17.0/24");
        devices = new ZeroTierDevices(state.resolve("zerotier"), daemon.settings(network));
    }

    @AfterEach
    void stopDaemon() {
        daemon.close();
    }

    @Test
    void aNewNetworkIsPrivateAndAdmitsTheApplianceItself() {
        assertThat(daemon.hostedNetwork(network)).hasValueSatisfying(n -> assertThat(n.path("private").asBoolean()).isTrue());
        assertThat(devices.members()).containsExactly(
                new ZeroTierDevices.Member(Optional.empty(), FakeZeroTierOne.NODE, true, List.of()));
    }

    @Test
    void addingAuthorizesTheMemberUnderItsNameAndRemovingDeauthorizesIt() throws IOException {
        daemon.memberAsksToJoin(network, PHONE);
        assertThat(devices.members()).contains(new ZeroTierDevices.Member(Optional.empty(), PHONE, false, List.of()));

        ZeroTierDevices.Device phone = devices.add("phone", PHONE.toUpperCase());

        assertThat(phone.member()).isEqualTo(PHONE);
        assertThat(devices.members()).first().isEqualTo(new ZeroTierDevices.Member(Optional.of("phone"), PHONE, true, List.of()));
        assertThat(Files.getPosixFilePermissions(state.resolve("zerotier/devices.json")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        assertThat(devices.remove("phone")).contains(phone);
        assertThat(devices.list()).isEmpty();
        assertThat(devices.members()).contains(new ZeroTierDevices.Member(Optional.empty(), PHONE, false, List.of()));
        assertThat(devices.remove("phone")).isEmpty();
    }

    @Test
    void aDeviceIsRemovedFromTheNetworkItWasAuthorizedOnAfterTheConfiguredOneChanged() {
        devices.add("phone", PHONE);
        String next = ZeroTierDevices.createNetwork(daemon.settings(network), "hearth-2", "10.147.18.0/24");
        ZeroTierDevices moved = new ZeroTierDevices(state.resolve("zerotier"), daemon.settings(next));
        daemon.memberAsksToJoin(next, PHONE);

        assertThat(moved.members()).contains(new ZeroTierDevices.Member(Optional.empty(), PHONE, false, List.of()));
        assertThat(moved.onOtherNetworks()).extracting(ZeroTierDevices.Device::network).containsExactly(network);
        moved.remove("phone");

        assertThat(devices.members()).contains(new ZeroTierDevices.Member(Optional.empty(), PHONE, false, List.of()));
        assertThat(daemon.requests()).noneMatch(r -> r.method().equals("POST")
                && r.path().equals("/controller/network/" + next + "/member/" + PHONE));
        assertThat(moved.list()).isEmpty();
    }

    @Test
    void aNameOrMemberTakenAlreadyAndABadAddressAreRefused() {
        devices.add("phone", PHONE);

        assertThatThrownBy(() -> devices.add("phone", LAPTOP)).hasMessage("a device named phone exists already (" + PHONE + ")");
        assertThatThrownBy(() -> devices.add("tablet", PHONE)).hasMessage("member " + PHONE + " is the device phone already");
        assertThatThrownBy(() -> devices.add("laptop", "xyz")).hasMessageContaining("member: must be a 10-digit hex ZeroTier address");
        assertThatThrownBy(() -> devices.add("Laptop", LAPTOP)).hasMessageContaining("device name \"Laptop\"");
        assertThat(devices.list()).extracting(ZeroTierDevices.Device::name).containsExactly("phone");
    }

    @Test
    void aNetworkControlledElsewhereIsNotManagedHere() {
        ZeroTierDevices elsewhere = new ZeroTierDevices(state.resolve("other"), daemon.settings("8056c2e21c000001"));

        assertThatThrownBy(() -> elsewhere.add("phone", PHONE)).hasMessage("network 8056c2e21c000001 is controlled by node"
                + " 8056c2e21c, not by this appliance (" + FakeZeroTierOne.NODE + "): authorize devices at that controller");
        assertThat(elsewhere.list()).isEmpty();
    }

    @Test
    void withoutANetworkTheOwnerIsToldHowToGetOne() {
        ZeroTierDevices unset = new ZeroTierDevices(state.resolve("unset"), new ZeroTierSettings(Optional.empty(), daemon.api(), home));

        assertThatThrownBy(() -> unset.add("phone", PHONE)).hasMessageStartingWith("overlay.zerotier.network is not set:"
                + " create a network (hearth overlay zerotier create-network)");
    }

    @Test
    void aControllerThatDoesNotHostTheNetworkLeavesNoDeviceBehind() {
        // Under this node's address, but never created (or deleted since).
        ZeroTierDevices gone = new ZeroTierDevices(state.resolve("gone"), daemon.settings(FakeZeroTierOne.NODE + "0000ff"));

        assertThatThrownBy(() -> gone.add("phone", PHONE)).hasMessage("network " + FakeZeroTierOne.NODE
                + "0000ff is not one this node's controller hosts");
        assertThat(gone.list()).isEmpty();
    }
}
