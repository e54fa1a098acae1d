package org.hearth.core.overlay;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/**
 * {@link ZeroTierOverlay} against a fake zerotier-one that serves the daemon's documented JSON API on loopback.
 * The daemon itself is not exercised: no ZeroTier package is reachable on the build machine, and a real join
 * needs the ZeroTier roots on the Internet and a controller to authorize the node. What is checked is everything
 * on this side of the API: the requests and token sent, the join, and how each answer becomes an overlay state.
 */
class ZeroTierOverlayTest {

    private static final String NWID = "8056c2e21c000001";
    private static final String DEVICE = "ztks575eoa";

    @TempDir
    Path home;
    private FakeZeroTierOne daemon;
    private ZeroTierOverlay overlay;

    @BeforeEach
    void startDaemon() throws IOException {
        daemon = new FakeZeroTierOne(home);
        overlay = new ZeroTierOverlay(daemon.settings(NWID));
    }

    @AfterEach
    void stopDaemon() {
        overlay.close();
        daemon.close();
    }

    @Test
    void joinsAnUnjoinedNetworkAndComesUpOnceTheNetworkIsOkWithAnAddress() throws Exception {
        assertThat(overlay.name()).isEqualTo("zerotier");
        assertThat(overlay.developmentOnly()).isFalse();

        OverlayState joining = overlay.refresh();

        assertThat(joining).isEqualTo(OverlayState.down("joining network " + NWID,
                Map.of("node", FakeZeroTierOne.NODE, "network", NWID)));
        assertThat(daemon.requests()).extracting(FakeZeroTierOne.Request::toString).containsExactly(
                "GET /status", "GET /network/" + NWID, "POST /network/" + NWID + " {}");
        assertThat(daemon.isJoined(NWID)).isTrue();

        assertThat(overlay.refresh().problem())
                .contains("waiting for network " + NWID + " configuration from its controller");

        daemon.network(NWID, "OK", "home", "fd80:56c2:e21c:0:199:9335:981b:1e01/88", "10.147.17.23/24");
        OverlayState up = overlay.refresh();

        assertThat(up.address()).contains(InetAddress.getByName("10.147.17.23"));
        assertThat(up.device()).contains(DEVICE);
        assertThat(up.network()).contains("10.147.17.0/24");
        assertThat(up.problem()).isEmpty();
        assertThat(up.details()).containsExactly(
                entry("node", FakeZeroTierOne.NODE), entry("network", NWID), entry("name", "home"));
        assertThat(daemon.requests()).filteredOn(r -> r.method().equals("POST")).hasSize(1);
    }

    @Test
    void sendsTheTokenFromTheDaemonsHomeWithEveryRequest() throws Exception {
        Files.writeString(home.resolve("authtoken.secret"), FakeZeroTierOne.TOKEN + "\n");

        overlay.refresh();

        // The fake answers 401 to any other token, so a join means the token went with every request.
        assertThat(daemon.isJoined(NWID)).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "REQUESTING_CONFIGURATION | waiting for network 8056c2e21c000001 configuration from its controller",
            "ACCESS_DENIED | node 9935981b1e is not authorized on network 8056c2e21c000001: authorize it in the network's controller",
            "NOT_FOUND | network 8056c2e21c000001 does not exist: check overlay.zerotier.network",
            "PORT_ERROR | zerotier-one could not open the device for network 8056c2e21c000001 (PORT_ERROR, portError 0): check /dev/net/tun",
            "CLIENT_TOO_OLD | network 8056c2e21c000001 needs a newer zerotier-one (CLIENT_TOO_OLD): upgrade it",
    })
    void reportsWhyTheNetworkIsNotUsable(String status, String problem) {
        overlay.refresh();
        // Even with an address listed, only OK counts: a denied node's old assignment must not open private ports.
        daemon.network(NWID, status, "home", "10.147.17.23/24");

        OverlayState state = overlay.refresh();

        assertThat(state.problem()).contains(problem);
        assertThat(state.address()).isEmpty();
        assertThat(state.device()).isEmpty();
        assertThat(state.details()).containsExactly(
                entry("node", FakeZeroTierOne.NODE), entry("network", NWID), entry("name", "home"));
    }

    /** Anyone who knows a public network's id can join it: private ports must stay closed there. */
    @Test
    void staysDownOnAPublicNetwork() {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        daemon.set(NWID, "type", "PUBLIC");

        OverlayState state = overlay.refresh();

        assertThat(state.address()).isEmpty();
        assertThat(state.problem()).hasValueSatisfying(p -> assertThat(p).contains("is not private (type PUBLIC)"));
    }

    @Test
    void staysDownWhileTheNetworkIsOkButHasNoIpv4AddressYet() {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "fd80:56c2:e21c:0:199:9335:981b:1e01/88");

        OverlayState state = overlay.refresh();

        assertThat(state.address()).isEmpty();
        assertThat(state.problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("no address assigned yet to node 9935981b1e on network " + NWID));
    }

    @Test
    void staysDownWhenTheDaemonDoesNotPutTheAddressOnItsDevice() {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        daemon.set(NWID, "allowManaged", false);

        OverlayState state = overlay.refresh();

        assertThat(state.address()).isEmpty();
        assertThat(state.problem()).contains("zerotier-one does not manage addresses on network " + NWID
                + " (allowManaged is off): run zerotier-cli set " + NWID + " allowManaged=1");
    }

    @Test
    void followsAnAddressChange() throws Exception {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        assertThat(overlay.refresh().address()).contains(InetAddress.getByName("10.147.17.23"));

        daemon.network(NWID, "OK", "home", "10.147.20.5/22", "10.147.17.23/24");
        OverlayState moved = overlay.refresh();

        assertThat(moved.address()).contains(InetAddress.getByName("10.147.20.5"));
        assertThat(moved.network()).contains("10.147.20.0/22");
        assertThat(moved.device()).contains(DEVICE);
    }

    @Test
    void goesDownWhenTheNetworkDisappearsAndJoinsItAgain() throws Exception {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        assertThat(overlay.refresh().address()).isPresent();

        daemon.leave(NWID);
        OverlayState gone = overlay.refresh();

        assertThat(gone.address()).isEmpty();
        assertThat(gone.problem()).contains("joining network " + NWID);
        assertThat(daemon.requests()).filteredOn(r -> r.method().equals("POST"))
                .extracting(FakeZeroTierOne.Request::toString)
                .containsExactly("POST /network/" + NWID + " {}", "POST /network/" + NWID + " {}");
        assertThat(daemon.isJoined(NWID)).isTrue();

        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        assertThat(overlay.refresh().address()).contains(InetAddress.getByName("10.147.17.23"));
    }

    @Test
    void closingLeavesTheNetworkJoined() {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        overlay.refresh();

        overlay.close();

        assertThat(daemon.isJoined(NWID)).isTrue();
        assertThat(daemon.requests()).noneMatch(r -> r.method().equals("DELETE"));
    }

    @Test
    void downWithoutAskingTheDaemonWhenNoNetworkIsConfigured() {
        ZeroTierOverlay unconfigured = new ZeroTierOverlay(
                new ZeroTierSettings(Optional.empty(), daemon.api(), home));

        OverlayState state = unconfigured.refresh();

        assertThat(state).isEqualTo(OverlayState.down("no ZeroTier network configured: set "
                + "overlay.zerotier.network to the 16-digit id of the owner's network", Map.of()));
        assertThat(daemon.requests()).isEmpty();
    }

    @Test
    void downWhenTheDaemonIsNotRunning() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        ZeroTierOverlay absent = new ZeroTierOverlay(
                new ZeroTierSettings(Optional.of(NWID), "127.0.0.1:" + closedPort, home));

        OverlayState state = absent.refresh();

        assertThat(state).isEqualTo(OverlayState.down("zerotier-one is not answering on 127.0.0.1:" + closedPort
                + " (connection refused)", Map.of("network", NWID)));
    }

    @Test
    void downWhenTheDaemonAcceptsButNeverAnswers() throws IOException {
        // Never accepted, never answered: the kernel completes the handshake from the backlog all the same.
        try (ServerSocket stuck = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ZeroTierOverlay hanging = new ZeroTierOverlay(
                    new ZeroTierSettings(Optional.of(NWID), "127.0.0.1:" + stuck.getLocalPort(), home),
                    Duration.ofMillis(200));

            long start = System.nanoTime();
            OverlayState state = hanging.refresh();

            assertThat(state.problem()).contains("zerotier-one is not answering on 127.0.0.1:"
                    + stuck.getLocalPort() + " (no answer within 200 ms)");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void downNamingTheTokenFileWhenItIsMissing() throws IOException {
        Path token = home.resolve("authtoken.secret");
        Files.delete(token);

        OverlayState state = overlay.refresh();

        assertThat(state.problem()).contains("cannot read zerotier-one's auth token: " + token
                + " does not exist (is zerotier-one installed, and is overlay.zerotier.home its home?)");
        assertThat(daemon.requests()).isEmpty();
    }

    @Test
    void downSayingTheTokenWasRefusedWhenTheDaemonAnswers401() throws IOException {
        Path token = home.resolve("authtoken.secret");
        Files.writeString(token, "stale-token-from-an-old-install");

        OverlayState state = overlay.refresh();

        assertThat(state.problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("zerotier-one refused the auth token in " + token + " (HTTP 401)"));
        assertThat(state.address()).isEmpty();
        assertThat(daemon.requests()).extracting(FakeZeroTierOne.Request::toString).containsExactly("GET /status");
        assertThat(daemon.isJoined(NWID)).isFalse();
    }

    @Test
    void comesBackUpWhenTheDaemonReturns() throws Exception {
        overlay.refresh();
        daemon.network(NWID, "OK", "home", "10.147.17.23/24");
        assertThat(overlay.refresh().address()).isPresent();

        Files.writeString(home.resolve("authtoken.secret"), "rotated");
        assertThat(overlay.refresh().address()).isEmpty();
        Files.writeString(home.resolve("authtoken.secret"), FakeZeroTierOne.TOKEN);

        assertThat(overlay.refresh().address()).contains(InetAddress.getByName("10.147.17.23"));
    }
}
