package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link ZeroTierController} against a fake zerotier-one serving the controller part of the daemon's documented
 * JSON API. The daemon itself is not exercised: no ZeroTier package is reachable on the build machine, so what is
 * checked is the requests this side sends (paths, token, bodies) and how it reads the answers.
 */
class ZeroTierControllerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MEMBER = "a1b2c3d4e5";

    @TempDir
    Path home;
    private FakeZeroTierOne daemon;
    private ZeroTierController controller;

    @BeforeEach
    void startDaemon() throws IOException {
        daemon = new FakeZeroTierOne(home);
        controller = new ZeroTierController(daemon.settings("8056c2e21c000001"));
    }

    @AfterEach
    void stopDaemon() {
        daemon.close();
    }

    @Test
    void createsAPrivateNetworkUnderThisNodeThatHandsOutAddressesOfThePrefix() throws Exception {
        String nwid = controller.createNetwork("hearth", "10.147.17.0/24");

        assertThat(nwid).matches("[0-9a-f]{16}").startsWith(FakeZeroTierOne.NODE);
        FakeZeroTierOne.Request create = daemon.requests().get(1);
        assertThat(create.method()).isEqualTo("POST");
        assertThat(create.path()).isEqualTo("/controller/network/" + FakeZeroTierOne.NODE + "______");
        assertThat(JSON.readTree(create.body())).isEqualTo(JSON.readTree("""
                {"name": "hearth", "private": true, "v4AssignMode": {"zt": true},
                 "ipAssignmentPools": [{"ipRangeStart": "10.147.17.1", "ipRangeEnd": "10.147.17.254"}],
                 "routes": [{"target": "10.147.17.0/24", "via": null}]}
                """));
        assertThat(daemon.hostedNetwork(nwid)).isPresent();
    }

    @Test
    void authorizesAndDeauthorizesAMember() throws Exception {
        String nwid = controller.createNetwork("hearth", "10.147.17.0/24");
        daemon.memberAsksToJoin(nwid, MEMBER);
        assertThat(controller.members(nwid)).containsExactly(new ZeroTierController.Member(MEMBER, false, List.of()));

        controller.authorize(nwid, MEMBER.toUpperCase());

        assertThat(controller.members(nwid)).containsExactly(new ZeroTierController.Member(MEMBER, true, List.of()));
        controller.deauthorize(nwid, MEMBER);
        assertThat(controller.members(nwid)).containsExactly(new ZeroTierController.Member(MEMBER, false, List.of()));
        List<JsonNode> changes = daemon.requests().stream()
                .filter(r -> r.method().equals("POST") && r.path().endsWith("/member/" + MEMBER))
                .map(r -> read(r.body())).toList();
        assertThat(changes).containsExactly(read("{\"authorized\":true}"), read("{\"authorized\":false}"));
    }

    @Test
    void listsMembersInIdOrder() {
        String nwid = controller.createNetwork("hearth", "10.147.17.0/24");
        daemon.memberAsksToJoin(nwid, "ffee000001");
        daemon.memberAsksToJoin(nwid, "0011000001");

        assertThat(controller.members(nwid)).extracting(ZeroTierController.Member::id)
                .containsExactly("0011000001", "ffee000001");
    }

    @Test
    void rejectsMalformedIdsBeforeAskingTheDaemon() {
        String nwid = controller.createNetwork("hearth", "10.147.17.0/24");
        int asked = daemon.requests().size();

        assertThatThrownBy(() -> controller.authorize(nwid, "a1b2c3d4"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("member id: must be a 10-digit hex ZeroTier address such as 8056c2e21c, not \"a1b2c3d4\"");
        assertThatThrownBy(() -> controller.deauthorize(nwid, "a1b2c3d4e5/../x"))
                .hasMessageContaining("member id").hasMessageContaining("\"a1b2c3d4e5/../x\"");
        assertThatThrownBy(() -> controller.members("not-a-network"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("network id").hasMessageContaining("\"not-a-network\"");
        assertThat(daemon.requests()).hasSize(asked);
    }

    @Test
    void rejectsAPrefixThatIsNotAnIpv4Slash24() {
        for (String prefix : List.of("10.147.17.0/16", "10.147.17.5/24", "fd00::/24", "10.147.17.0")) {
            assertThatThrownBy(() -> controller.createNetwork("hearth", prefix))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("network prefix: must be an IPv4 /24 such as 10.147.17.0/24, not \"" + prefix + "\"");
        }
        assertThat(daemon.requests()).isEmpty();
    }

    @Test
    void authorizingOnANetworkThisNodeDoesNotHostFails() {
        assertThatThrownBy(() -> controller.authorize("8056c2e21c000001", MEMBER))
                .isInstanceOf(ZeroTierException.class)
                .hasMessage("network 8056c2e21c000001 is not one this node's controller hosts");
    }

    @Test
    void aRefusedTokenIsAnErrorNamingTheTokenFile() throws IOException {
        Path token = home.resolve("authtoken.secret");
        Files.writeString(token, "stale");

        assertThatThrownBy(() -> controller.createNetwork("hearth", "10.147.17.0/24"))
                .isInstanceOf(ZeroTierException.class)
                .hasMessageStartingWith("zerotier-one refused the auth token in " + token + " (HTTP 401)");
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
