package org.hearth.core.network;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.EngineNames;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The firewall rules of one app's networks: a pure function of its manifest, its network plan and
 * what runs now. A network starts closed; each declared edge opens exactly its ports between the
 * two containers' current addresses. A pool of ephemeral clients is "any member" (its containers
 * come and go faster than rules); an ephemeral server is reached only through the hand-off
 * listener on the network's gateway. An egress network lets its container out to the declared
 * ports of any address beyond the host, and to the resolver (if one is configured) on port 53.
 */
public final class FirewallPlanner {

    private FirewallPlanner() {
    }

    /**
     * @param bridges    the bridge interface of each planned network, by name
     * @param addresses  each running service container's address on each network, by container, then network name
     * @param beside     the same for a service's second container, started beside the one serving while it takes
     *                   over (manifest rollout: never a server of an edge): its flows to peers are open too, so it
     *                   is ready when it does
     * @param gateways   the host's address on each network, by network name
     * @param egress     the appliance's egress settings (its resolver)
     */
    public static List<EdgeFirewall.NetworkRule> rules(AppManifest m, EngineNames names, NetworkPlan plan,
                                                       Map<String, String> bridges,
                                                       Map<String, Map<String, String>> addresses,
                                                       Map<String, Map<String, String>> beside,
                                                       Map<String, String> gateways, EgressConfig egress) {
        Map<String, EdgeFirewall.NetworkRule> rules = new LinkedHashMap<>();
        plan.networks().keySet().forEach(name -> rules.put(name,
                EdgeFirewall.NetworkRule.closed(bridges.get(name))));
        m.containers().forEach((name, decl) -> {
            if (!decl.egress().isEmpty()) {
                String network = names.egressNetwork(m.app(), name);
                rules.put(network, EdgeFirewall.NetworkRule.egress(
                        bridges.get(network), outbound(decl.egress(), egress)));
            }
        });
        m.containers().forEach((from, decl) -> decl.edges().stream().map(AppManifest.Edge::to).distinct().forEach(to -> {
            String network = names.edgeNetwork(m.app(), from, to);
            List<Integer> ports = decl.edges().stream().filter(e -> e.to().equals(to))
                    .map(e -> m.containers().get(to).port(e.port()).orElseThrow().port()).distinct().toList();
            // Empty for a pool of clients: any member may connect.
            Optional<String> client = decl.containerPerUse() ? Optional.empty() : addressOf(addresses, from, network);
            boolean handOff = m.containers().get(to).containerPerUse();
            Optional<String> server = handOff ? Optional.ofNullable(gateways.get(network)) : addressOf(addresses, to, network);
            if ((client.isEmpty() && !decl.containerPerUse()) || server.isEmpty()) {
                return;
            }
            List<Optional<String>> clients = new ArrayList<>(List.of(client));
            addressOf(beside, from, network).filter(b -> !decl.containerPerUse()).ifPresent(b -> clients.add(Optional.of(b)));
            List<EdgeFirewall.Flow> flows = clients.stream().flatMap(c -> ports.stream()
                    .map(port -> new EdgeFirewall.Flow(c, server.get(), port))).toList();
            String bridge = bridges.get(network);
            rules.put(network, handOff ? new EdgeFirewall.NetworkRule(bridge, List.of(), flows)
                    : new EdgeFirewall.NetworkRule(bridge, flows, List.of()));
        }));
        return List.copyOf(rules.values());
    }

    private static List<EdgeFirewall.Outbound> outbound(List<AppManifest.Egress> declared, EgressConfig egress) {
        List<EdgeFirewall.Outbound> out = new ArrayList<>();
        for (AppManifest.Egress e : declared) {
            if (e.to().equals(AppManifest.Egress.INTERNET)) {
                e.ports().forEach(p -> out.add(new EdgeFirewall.Outbound(Optional.empty(), "tcp", p)));
            } else if (e.to().equals(AppManifest.Egress.RESOLVER) && egress.resolver().isPresent()) {
                for (String protocol : List.of("udp", "tcp")) {
                    out.add(new EdgeFirewall.Outbound(egress.resolver(), protocol, EgressConfig.DNS_PORT));
                }
            } else if (e.to().equals(AppManifest.Egress.RELAY) && egress.relay().isPresent()) {
                // A relay named by a host name may move: its port is open to any address then.
                RelayConfig relay = egress.relay().get();
                out.add(new EdgeFirewall.Outbound(relay.address(), "tcp", relay.port()));
            }
            // Anything else is refused at install (InstallChecks): nothing to open.
        }
        return out;
    }

    private static Optional<String> addressOf(Map<String, Map<String, String>> addresses, String container, String network) {
        return Optional.ofNullable(addresses.get(container)).map(a -> a.get(network));
    }
}
