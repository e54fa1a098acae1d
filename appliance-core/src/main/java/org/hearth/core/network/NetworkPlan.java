package org.hearth.core.network;

import java.util.List;
import java.util.Map;

/**
 * The engine networks an app needs and which of its containers join each.
 *
 * @param networks    every network, by name, with its kind
 * @param attachments container name to the networks it joins and the aliases it has there
 */
public record NetworkPlan(Map<String, Kind> networks, Map<String, List<Attachment>> attachments) {

    public NetworkPlan {
        networks = Map.copyOf(networks);
        attachments = Map.copyOf(attachments);
    }

    public enum Kind {
        /** Shared by exactly one client and the one server it has a declared edge to. */
        EDGE,
        /** Shared by one container and nobody else, so the host's edge listener can reach it. */
        INGRESS,
        /**
         * The only kind with a route out (the engine masquerades it): joined by one container that
         * declares egress; the firewall lets it reach only the declared ports and the resolver.
         */
        EGRESS
    }

    /** @param aliases the names peers on this network resolve to the container */
    public record Attachment(String network, List<String> aliases) {
    }

    public List<Attachment> attachmentsOf(String container) {
        return attachments.getOrDefault(container, List.of());
    }
}
