package org.hearth.core.network;

import org.hearth.core.SystemTool;
import org.hearth.core.runtime.Engine;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EdgeFirewallTest {

    @Test
    void edgeNetworkAllowsOnlyClientToDeclaredPortsAndNothingToTheHost() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", List.of(
                new EdgeFirewall.Flow(Optional.of("172.18.0.3"), "172.18.0.2", 7000),
                new EdgeFirewall.Flow(Optional.of("172.18.0.3"), "172.18.0.2", 7002)), List.of());

        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(List.of(rule))).containsExactly(
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7000 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7002 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -j DROP");
    }

    @Test
    void theOverlayAddressIsReachableOnlyThroughItsInterfaceOrFromThisHost() {
        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(new EdgeFirewall.OverlayGuard("10.84.0.1", "hearth-wg")))
                .containsExactly(
                        "-A HEARTH-I-0123456789ab -d 10.84.0.1/32 -i lo -j RETURN",
                        "-A HEARTH-I-0123456789ab -d 10.84.0.1/32 -i hearth-wg -j RETURN",
                        "-A HEARTH-I-0123456789ab -d 10.84.0.1/32 -j DROP");
    }

    @Test
    void aClosedNetworkAllowsNothingNew() {
        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(List.of(EdgeFirewall.NetworkRule.closed("br-0123456789ab"))))
                .noneMatch(l -> l.contains("--dport"));
    }

    /** A per-message server sits behind the supervisor's hand-off listener on the gateway, never dialled directly. */
    @Test
    void handOffNetworkLetsTheClientReachOnlyTheGatewayListener() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", List.of(),
                List.of(new EdgeFirewall.Flow(Optional.of("172.18.0.3"), "172.18.0.1", 7830)));

        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(List.of(rule))).containsExactly(
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.1/32 -p tcp -m tcp --dport 7830 -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -j DROP");
    }

    @Test
    void aPoolOfClientsMayReachOnlyTheServerNotEachOther() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab",
                List.of(new EdgeFirewall.Flow(Optional.empty(), "172.18.0.2", 2424)), List.of());

        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(List.of(rule))).contains(
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -d 172.18.0.2/32 -p tcp -m tcp --dport 2424 -j RETURN");
    }

    /**
     * On Podman, Hearth's chain is the only thing between an app's networks: what it allows it
     * accepts, an internal network's traffic stays on its bridge, and members may ask the network's
     * resolver on the host.
     */
    @Test
    void onPodmanAnEdgeNetworkAcceptsItsFlowsAndKeepsToItsBridge() {
        var rule = new EdgeFirewall.NetworkRule("hb-0123456789ab", List.of(
                new EdgeFirewall.Flow(Optional.of("10.89.0.3"), "10.89.0.2", 7000)), List.of());

        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.PODMAN).render(List.of(rule))).containsExactly(
                "-A HEARTH-I-0123456789ab -i hb-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-I-0123456789ab -i hb-0123456789ab -p udp -m udp --dport 53 -m addrtype --dst-type LOCAL --limit-iface-in -j RETURN",
                "-A HEARTH-I-0123456789ab -i hb-0123456789ab -p tcp -m tcp --dport 53 -m addrtype --dst-type LOCAL --limit-iface-in -j RETURN",
                "-A HEARTH-I-0123456789ab -i hb-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i hb-0123456789ab -o hb-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                "-A HEARTH-F-0123456789ab -i hb-0123456789ab -o hb-0123456789ab -s 10.89.0.3/32 -d 10.89.0.2/32 -p tcp -m tcp --dport 7000 -j ACCEPT",
                "-A HEARTH-F-0123456789ab -i hb-0123456789ab -o hb-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i hb-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -o hb-0123456789ab -j DROP");
    }

    /** On Podman no engine rule keeps an egress network off the others: Hearth's chain does. */
    @Test
    void onPodmanAnEgressNetworkReachesNoEngineBridge() {
        var rule = EdgeFirewall.NetworkRule.egress("hb-0123456789ab",
                List.of(new EdgeFirewall.Outbound(Optional.empty(), "tcp", 25)));

        List<String> lines = new EdgeFirewall("0123456789ab", Engine.Kind.PODMAN).render(List.of(rule));
        int out = lines.indexOf("-A HEARTH-F-0123456789ab -i hb-0123456789ab -p tcp -m tcp --dport 25 -j ACCEPT");
        assertThat(out).isPositive();
        for (String bridge : List.of("hb-+", "br-+", "docker0", "podman+")) {
            assertThat(lines.indexOf("-A HEARTH-F-0123456789ab -i hb-0123456789ab -o " + bridge + " -j DROP"))
                    .as("dropped before anything is accepted: %s", bridge).isBetween(0, out);
        }
        assertThat(lines).endsWith("-A HEARTH-F-0123456789ab -i hb-0123456789ab -j DROP");
    }

    /** Two supervisors on one host (the demo beside a test run) once wiped each other's rules. */
    @Test
    void twoInstancesKeepEachOthersRules() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "changes the host's iptables: needs root");
        String a = "a" + HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(6)).substring(0, 11);
        String b = "b" + a.substring(1);
        try {
            new EdgeFirewall(a, Engine.Kind.DOCKER).apply(List.of(EdgeFirewall.NetworkRule.closed("br-aaaaaaaaaaaa")), Optional.empty());
            new EdgeFirewall(b, Engine.Kind.DOCKER).apply(List.of(EdgeFirewall.NetworkRule.closed("br-bbbbbbbbbbbb")), Optional.empty());

            assertThat(iptables("-S", "HEARTH-F-" + a)).contains("-i br-aaaaaaaaaaaa");
            assertThat(iptables("-S", "HEARTH-F-" + b)).contains("-i br-bbbbbbbbbbbb");
            assertThat(iptables("-S", "DOCKER-USER")).contains("-j HEARTH-F-" + a).contains("-j HEARTH-F-" + b);
            assertThat(iptables("-S", "INPUT")).contains("-j HEARTH-I-" + a).contains("-j HEARTH-I-" + b);

            // hearth down of one removes its chains only.
            new EdgeFirewall(a, Engine.Kind.DOCKER).remove();
            assertThat(iptables("-S")).doesNotContain("HEARTH-F-" + a).doesNotContain("HEARTH-I-" + a)
                    .contains("-N HEARTH-F-" + b).contains("-j HEARTH-I-" + b);
        } finally {
            new EdgeFirewall(a, Engine.Kind.DOCKER).remove();
            new EdgeFirewall(b, Engine.Kind.DOCKER).remove();
        }
        assertThat(iptables("-S")).doesNotContain("HEARTH-F-" + b);
    }

    private static String iptables(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("iptables", "-w"));
        cmd.addAll(List.of(args));
        return SystemTool.attempt(new byte[0], cmd.toArray(String[]::new)).output();
    }

    /** The only way out: declared ports to anywhere beyond the host, the resolver's port 53, nothing else. */
    @Test
    void anEgressNetworkLeavesOnlyOnItsDeclaredPortsAndToItsResolver() {
        var rule = EdgeFirewall.NetworkRule.egress("br-0123456789ab", List.of(
                new EdgeFirewall.Outbound(Optional.empty(), "tcp", 25),
                new EdgeFirewall.Outbound(Optional.of("192.0.2.53"), "udp", 53)));

        assertThat(new EdgeFirewall("0123456789ab", Engine.Kind.DOCKER).render(List.of(rule))).containsExactly(
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -d 192.0.2.53/32 -p udp -m udp --dport 53 -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -p tcp -m tcp --dport 25 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -d 192.0.2.53/32 -p udp -m udp --dport 53 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -j DROP");
    }

    @Test
    void anInternalNetworkCannotCarryConnectionsOut() {
        assertThatThrownBy(() -> new EdgeFirewall.NetworkRule("br-0123456789ab", List.of(), List.of(), false,
                List.of(new EdgeFirewall.Outbound(Optional.empty(), "tcp", 25))))
                .hasMessageContaining("only a routed network");
    }
}
