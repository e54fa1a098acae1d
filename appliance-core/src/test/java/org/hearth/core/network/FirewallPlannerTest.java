package org.hearth.core.network;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.MailShapedManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.runtime.EngineNames;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class FirewallPlannerTest {

    private static final EngineNames NAMES = new EngineNames("0a1b");

    private static final AppManifest MAIL = MailShapedManifest.MAIL;
    private static final EgressConfig NO_RESOLVER = EgressConfig.defaults();
    private static final AppManifest SENDER = ManifestReader.read("sender.yaml", """
            schema: 1
            app: sender
            version: 1.0.0
            containers:
              out:
                image: hearth/out
                lifecycle: service
                egress:
                  - to: internet
                    ports: [25, 587]
                  - to: resolver
                    ports: [53]
                  - to: relay
              sealed:
                image: hearth/sealed
                lifecycle: service
            """);

    private static final NetworkPlan PLAN = EdgeNetworkPlanner.plan(NAMES, MAIL);
    private static final String SMTP_TO_IMAP = NAMES.edgeNetwork("mail", "smtp-in", "imap");
    private static final String IMAP_TO_SPAM = NAMES.edgeNetwork("mail", "imap", "spam");

    private static Map<String, String> bridges() {
        Map<String, String> bridges = new HashMap<>();
        PLAN.networks().keySet().forEach(n -> bridges.put(n, "br-" + Integer.toHexString(n.hashCode())));
        return bridges;
    }

    private static EdgeFirewall.NetworkRule ruleOf(List<EdgeFirewall.NetworkRule> rules, String network) {
        String bridge = bridges().get(network);
        return rules.stream().filter(r -> r.bridge().equals(bridge)).findFirst().orElseThrow();
    }

    @Test
    void beforeAnythingRunsEveryPlannedNetworkIsClosed() {
        List<EdgeFirewall.NetworkRule> rules = FirewallPlanner.rules(MAIL, NAMES, PLAN, bridges(), Map.of(), Map.of(), Map.of(), NO_RESOLVER);

        assertThat(rules).hasSize(PLAN.networks().size());
        assertThat(rules).allSatisfy(r -> {
            assertThat(r.between()).isEmpty();
            assertThat(r.toHost()).isEmpty();
        });
    }

    @Test
    void anEphemeralClientPoolMayReachOnlyTheDeclaredPortOfTheRunningServer() {
        Map<String, Map<String, String>> addresses = Map.of("imap", Map.of(SMTP_TO_IMAP, "172.30.1.2"));

        EdgeFirewall.NetworkRule rule = ruleOf(FirewallPlanner.rules(MAIL, NAMES, PLAN, bridges(), addresses, Map.of(), Map.of(), NO_RESOLVER),
                SMTP_TO_IMAP);

        assertThat(rule.between()).containsExactly(new EdgeFirewall.Flow(Optional.empty(), "172.30.1.2", 2424));
        assertThat(rule.toHost()).isEmpty();
    }

    @Test
    void aPerMessageServerIsReachedOnlyThroughTheHandOffListenerOnTheGateway() {
        Map<String, Map<String, String>> addresses = Map.of("imap", Map.of(IMAP_TO_SPAM, "172.30.2.2"));

        EdgeFirewall.NetworkRule rule = ruleOf(FirewallPlanner.rules(MAIL, NAMES, PLAN, bridges(), addresses, Map.of(),
                Map.of(IMAP_TO_SPAM, "172.30.2.1"), NO_RESOLVER), IMAP_TO_SPAM);

        assertThat(rule.between()).isEmpty();
        assertThat(rule.toHost()).containsExactly(new EdgeFirewall.Flow(Optional.of("172.30.2.2"), "172.30.2.1", 7830));
    }

    @Test
    void aContainerStartedBesideTheOneServingReachesTheSamePeersUntilItTakesOver() {
        Map<String, Map<String, String>> addresses = Map.of("imap", Map.of(IMAP_TO_SPAM, "172.30.2.2"));
        Map<String, Map<String, String>> beside = Map.of("imap", Map.of(IMAP_TO_SPAM, "172.30.2.3"));

        EdgeFirewall.NetworkRule rule = ruleOf(FirewallPlanner.rules(MAIL, NAMES, PLAN, bridges(), addresses, beside,
                Map.of(IMAP_TO_SPAM, "172.30.2.1"), NO_RESOLVER), IMAP_TO_SPAM);

        assertThat(rule.toHost()).containsExactly(new EdgeFirewall.Flow(Optional.of("172.30.2.2"), "172.30.2.1", 7830),
                new EdgeFirewall.Flow(Optional.of("172.30.2.3"), "172.30.2.1", 7830));
    }

    @Test
    void aServiceClientThatDoesNotRunYetOpensNothing() {
        EdgeFirewall.NetworkRule rule = ruleOf(FirewallPlanner.rules(MAIL, NAMES, PLAN, bridges(), Map.of(), Map.of(),
                Map.of(IMAP_TO_SPAM, "172.30.2.1"), NO_RESOLVER), IMAP_TO_SPAM);

        assertThat(rule.between()).isEmpty();
        assertThat(rule.toHost()).isEmpty();
    }

    @Test
    void anEgressNetworkLetsItsContainerOutOnlyToTheDeclaredPortsAndTheResolver() {
        NetworkPlan plan = EdgeNetworkPlanner.plan(NAMES, SENDER);
        String egress = NAMES.egressNetwork("sender", "out");
        Map<String, String> bridges = Map.of(egress, "br-0123456789ab");

        List<EdgeFirewall.NetworkRule> rules = FirewallPlanner.rules(SENDER, NAMES, plan, bridges, Map.of(), Map.of(), Map.of(),
                new EgressConfig(Optional.of("192.0.2.53"), Optional.empty()));

        assertThat(plan.networks()).containsOnlyKeys(egress).containsEntry(egress, NetworkPlan.Kind.EGRESS);
        assertThat(plan.attachmentsOf("sealed")).isEmpty();
        assertThat(rules).containsExactly(EdgeFirewall.NetworkRule.egress("br-0123456789ab", List.of(
                new EdgeFirewall.Outbound(Optional.empty(), "tcp", 25),
                new EdgeFirewall.Outbound(Optional.empty(), "tcp", 587),
                new EdgeFirewall.Outbound(Optional.of("192.0.2.53"), "udp", 53),
                new EdgeFirewall.Outbound(Optional.of("192.0.2.53"), "tcp", 53))));
    }

    /** A relay named by its address is reached there alone; one named by a host name on its port anywhere. */
    @Test
    void aRelayInApplianceYamlOpensItsPortToItsAddressOrToAnyWhenNamed() {
        NetworkPlan plan = EdgeNetworkPlanner.plan(NAMES, SENDER);
        Map<String, String> bridges = Map.of(NAMES.egressNetwork("sender", "out"), "br-0123456789ab");
        RelayConfig byAddress = new RelayConfig("192.0.2.25", 2525, Optional.empty(), Optional.empty());
        RelayConfig byName = new RelayConfig("smtp.provider.example", null, Optional.of("me"), Optional.empty());

        assertThat(FirewallPlanner.rules(SENDER, NAMES, plan, bridges, Map.of(), Map.of(), Map.of(),
                new EgressConfig(Optional.empty(), Optional.of(byAddress))).get(0).out())
                .contains(new EdgeFirewall.Outbound(Optional.of("192.0.2.25"), "tcp", 2525));
        assertThat(FirewallPlanner.rules(SENDER, NAMES, plan, bridges, Map.of(), Map.of(), Map.of(),
                new EgressConfig(Optional.empty(), Optional.of(byName))).get(0).out())
                .contains(new EdgeFirewall.Outbound(Optional.empty(), "tcp", 587));
    }

    /** Without a resolver in appliance.yaml the container resolves nothing: port 53 stays shut everywhere. */
    @Test
    void withoutAResolverNoDnsLeavesTheEgressNetwork() {
        NetworkPlan plan = EdgeNetworkPlanner.plan(NAMES, SENDER);
        Map<String, String> bridges = Map.of(NAMES.egressNetwork("sender", "out"), "br-0123456789ab");

        List<EdgeFirewall.NetworkRule> rules = FirewallPlanner.rules(SENDER, NAMES, plan, bridges, Map.of(), Map.of(), Map.of(), NO_RESOLVER);

        assertThat(rules).singleElement().satisfies(r -> {
            assertThat(r.routed()).isTrue();
            assertThat(r.out()).extracting(EdgeFirewall.Outbound::port).containsExactly(25, 587);
        });
    }
}
