package org.hearth.core.network;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EdgeFirewallTest {

    @Test
    void edgeNetworkAllowsOnlyClientToDeclaredPortsAndNothingToTheHost() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", Optional.of("172.18.0.3"), Optional.of("172.18.0.2"),
                List.of(7000, 7002));

        assertThat(new EdgeFirewall("0123456789ab").render(List.of(rule))).containsExactly(
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-I-0123456789ab -i br-0123456789ab -j DROP",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7000 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -s 172.18.0.3/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 7002 -j RETURN",
                "-A HEARTH-F-0123456789ab -i br-0123456789ab -o br-0123456789ab -j DROP");
    }

    @Test
    void untilBothEndsRunTheNetworkAllowsNothingNew() {
        var rule = new EdgeFirewall.NetworkRule("br-0123456789ab", Optional.empty(), Optional.of("172.18.0.2"), List.of(7000));

        assertThat(new EdgeFirewall("0123456789ab").render(List.of(rule))).noneMatch(l -> l.contains("--dport"));
    }

    /** Two supervisors on one host (the demo beside a test run) once wiped each other's rules. */
    @Test
    void twoInstancesKeepEachOthersRules() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "changes the host's iptables: needs root");
        String a = "a" + HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(6)).substring(0, 11);
        String b = "b" + a.substring(1);
        try {
            new EdgeFirewall(a).apply(List.of(new EdgeFirewall.NetworkRule("br-aaaaaaaaaaaa", Optional.empty(),
                    Optional.empty(), List.of())));
            new EdgeFirewall(b).apply(List.of(new EdgeFirewall.NetworkRule("br-bbbbbbbbbbbb", Optional.empty(),
                    Optional.empty(), List.of())));

            assertThat(iptables("-S", "HEARTH-F-" + a)).contains("-i br-aaaaaaaaaaaa");
            assertThat(iptables("-S", "HEARTH-F-" + b)).contains("-i br-bbbbbbbbbbbb");
            assertThat(iptables("-S", "DOCKER-USER")).contains("-j HEARTH-F-" + a).contains("-j HEARTH-F-" + b);
            assertThat(iptables("-S", "INPUT")).contains("-j HEARTH-I-" + a).contains("-j HEARTH-I-" + b);
        } finally {
            for (String id : List.of(a, b)) {
                iptables("-D", "DOCKER-USER", "-j", "HEARTH-F-" + id);
                iptables("-D", "INPUT", "-j", "HEARTH-I-" + id);
                for (String chain : List.of("HEARTH-F-" + id, "HEARTH-I-" + id)) {
                    iptables("-F", chain);
                    iptables("-X", chain);
                }
            }
        }
    }

    private static String iptables(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("iptables", "-w"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    @Test
    void bridgeIsNamedAfterTheNetworkId() {
        assertThat(EdgeFirewall.NetworkRule.bridgeOf("740a5a5a2348ffee0011")).isEqualTo("br-740a5a5a2348");
    }
}
