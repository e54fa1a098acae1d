package org.hearth.core.supervisor;

import org.hearth.core.network.EdgeNetworkPlanner;
import org.hearth.core.network.NetworkPlan;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Plans the app's ingress, edge and egress networks and makes sure each exists, with the host's address on it. */
final class PlanNetworks implements AppStep {

    private final ContainerRuntime runtime;
    private final EngineNames names;
    private final String instance;
    /** Network id to the host's address on it; a network keeps its gateway for life, so it is asked once. */
    private final Map<String, String> gateways = new HashMap<>();

    PlanNetworks(ContainerRuntime runtime, EngineNames names, String instance) {
        this.runtime = runtime;
        this.names = names;
        this.instance = instance;
    }

    @Override
    public String name() {
        return "networks";
    }

    @Override
    public void apply(AppPass app) {
        app.plan = EdgeNetworkPlanner.plan(names, app.manifest);
        app.plan.networks().forEach((name, kind) -> {
            Map<String, String> labels = new HashMap<>(AppTeardown.labelsOf(instance, app.app()));
            labels.put(HearthLabels.ROLE, kind.name().toLowerCase(Locale.ROOT));
            ContainerRuntime.EngineNetwork network = runtime.ensureNetwork(name, labels, kind != NetworkPlan.Kind.EGRESS);
            app.bridges.put(name, network.bridge());
            gatewayOf(network.id()).ifPresent(g -> app.gateways.put(name, g));
        });
    }

    private Optional<String> gatewayOf(String networkId) {
        Optional<String> gateway = Optional.ofNullable(gateways.get(networkId)).or(() -> runtime.gateway(networkId));
        gateway.ifPresent(g -> gateways.put(networkId, g));
        return gateway;
    }
}
