package org.hearth.core.network;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class EdgeFirewallTest {

    @Test
    void edgeNetworkAllowsOnlyClientToDeclaredPortsAndNothingToTheHost() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", Optional.of("172.18.0.3"), Optional.of("172.18.0.2"),
                List.of(7000, 7002));

        assertThat(EdgeFirewall.render(List.of(rule))).containsExactly(
                "-A HEARTH-INPUT -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-INPUT -i br-0123456789ab -j DROP",
                "-A HEARTH-FORWARD -i br-0123456789ab -o br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-FORWARD -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7000 -j RETURN",
                "-A HEARTH-FORWARD -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7002 -j RETURN",
                "-A HEARTH-FORWARD -i br-0123456789ab -o br-0123456789ab -j DROP");
    }

    @Test
    void untilBothEndsRunTheNetworkAllowsNothingNew() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", Optional.empty(), Optional.of("172.18.0.2"), List.of(7000));

        assertThat(EdgeFirewall.render(List.of(rule))).noneMatch(l -> l.contains("--dport"));
    }

    @Test
    void bridgeIsNamedAfterTheNetworkId() {
        assertThat(EdgeFirewall.NetworkRule.bridgeOf("740a5a5a2348ffee0011")).isEqualTo("br-740a5a5a2348");
    }
}
