package org.hearth.core.runtime;

/**
 * Names of one Hearth instance's containers and networks on the engine. Names are unique per
 * engine, so each carries the instance id: two instances on one engine (a demo and a test run,
 * or what a killed run left behind) never collide on a name or adopt each other's network.
 *
 * @param instance the owning state folder's id, as in the {@link HearthLabels#INSTANCE} label
 */
public record EngineNames(String instance) {

    public EngineNames {
        if (!instance.matches("[0-9a-f]{1,32}")) {
            throw new IllegalArgumentException("instance id must be lowercase hex: " + instance);
        }
    }

    /** The container of a service (one per manifest container); pool members are unnamed. */
    public String container(String app, String role) {
        return "hearth-" + app + "-" + role + "-" + instance;
    }

    /** The internal network that carries only the declared edge from one container to another. */
    public String edgeNetwork(String app, String from, String to) {
        return "hearth-" + app + "-" + from + "-to-" + to + "-" + instance;
    }

    /** The one routed network of a container that declares egress; nobody else joins it. */
    public String egressNetwork(String app, String container) {
        return "hearth-" + app + "-" + container + "-egress-" + instance;
    }

    /** The internal network between a listening container and the supervisor's edge listener. */
    public String ingressNetwork(String app, String container) {
        return "hearth-" + app + "-" + container + "-ingress-" + instance;
    }
}
