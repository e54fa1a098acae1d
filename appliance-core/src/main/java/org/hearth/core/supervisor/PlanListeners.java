package org.hearth.core.supervisor;

import org.hearth.core.runtime.EngineNames;

import java.net.InetAddress;

/** Decides the app's edge listeners (public, private, hand-off); the pass opens them once every app has run. */
final class PlanListeners implements AppStep {

    private final EngineNames names;
    private final InetAddress publicAddress;

    PlanListeners(EngineNames names, InetAddress publicAddress) {
        this.names = names;
        this.publicAddress = publicAddress;
    }

    @Override
    public String name() {
        return "listeners";
    }

    @Override
    public void apply(AppPass app) {
        app.listeners.addAll(ListenerPlan.of(app.manifest, names, publicAddress, app.overlayAddress, app.gateways));
    }
}
