package org.hearth.core.supervisor;

import org.hearth.core.network.EgressConfig;
import org.hearth.core.network.FirewallPlanner;
import org.hearth.core.runtime.EngineNames;

/**
 * Applies the app's firewall plan for what runs now. Declared twice in the pass: before any
 * container starts (a new network allows nothing) and after the containers (their new addresses).
 */
final class ApplyFirewall implements AppStep {

    private final String name;
    private final AppFirewalls firewalls;
    private final EngineNames names;
    private final EgressConfig egress;

    ApplyFirewall(String name, AppFirewalls firewalls, EngineNames names, EgressConfig egress) {
        this.name = name;
        this.firewalls = firewalls;
        this.names = names;
        this.egress = egress;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void apply(AppPass app) {
        firewalls.apply(app.app(), FirewallPlanner.rules(app.manifest, names, app.plan, app.bridges,
                app.addresses(), app.besideAddresses(), app.gateways, egress));
    }
}
