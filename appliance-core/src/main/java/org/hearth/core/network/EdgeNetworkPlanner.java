package org.hearth.core.network;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.EngineNames;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns declared edges into engine networks: one internal network per (client, server) pair,
 * holding just those two, and one ingress network per container with a listener. A container
 * therefore shares a network only with the peers it declared. Only a container that declares
 * egress gets a route out: a network of its own, which the firewall narrows to what it declared.
 */
public final class EdgeNetworkPlanner {

    private EdgeNetworkPlanner() {
    }

    public static NetworkPlan plan(EngineNames names, AppManifest app) {
        Map<String, NetworkPlan.Kind> networks = new LinkedHashMap<>();
        Map<String, List<NetworkPlan.Attachment>> attachments = new LinkedHashMap<>();
        app.containers().forEach((name, c) -> {
            boolean listens = c.ports().stream().anyMatch(p -> p.exposure() != AppManifest.Exposure.INTERNAL);
            if (listens) {
                String ingress = names.ingressNetwork(app.app(), name);
                networks.put(ingress, NetworkPlan.Kind.INGRESS);
                attach(attachments, name, ingress, List.of());
            }
            if (!c.egress().isEmpty()) {
                String egress = names.egressNetwork(app.app(), name);
                networks.put(egress, NetworkPlan.Kind.EGRESS);
                attach(attachments, name, egress, List.of());
            }
            c.edges().stream().map(AppManifest.Edge::to).distinct().forEach(to -> {
                String edge = names.edgeNetwork(app.app(), name, to);
                networks.put(edge, NetworkPlan.Kind.EDGE);
                attach(attachments, name, edge, List.of());
                // An ephemeral server (per-message: the rules allow no edge to a per-connection one) is never
                // dialled by name: its clients' name for it points at the supervisor's hand-off listener,
                // which picks a fresh container per connection.
                boolean handOff = app.containers().get(to).containerPerUse();
                attach(attachments, to, edge, handOff ? List.of() : List.of(to));
            });
        });
        return new NetworkPlan(networks, attachments);
    }

    private static void attach(Map<String, List<NetworkPlan.Attachment>> attachments, String container,
                               String network, List<String> aliases) {
        attachments.computeIfAbsent(container, k -> new ArrayList<>()).add(new NetworkPlan.Attachment(network, aliases));
    }
}
