package org.hearth.core.supervisor;

import org.hearth.core.runtime.ContainerRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/**
 * Removes what the app no longer declares: containers of roles gone from its manifest, then
 * (declared after the firewall step, so no rule points at them) networks no longer planned.
 */
final class RemoveUndeclared {

    private static final Logger LOG = LoggerFactory.getLogger(RemoveUndeclared.class);

    private RemoveUndeclared() {
    }

    static AppStep containers(ContainerRuntime runtime) {
        return new Named("undeclared-containers", app -> app.byRole.forEach((role, infos) -> {
            if (!app.manifest.containers().containsKey(role)) {
                infos.forEach(i -> {
                    LOG.info("app={} container={} event=removed reason=not-in-manifest", app.app(), role);
                    runtime.remove(i.id());
                });
            }
        }));
    }

    static AppStep networks(ContainerRuntime runtime) {
        return new Named("unplanned-networks", app -> app.networks.stream()
                .filter(n -> !app.plan.networks().containsKey(n.name()))
                .forEach(n -> runtime.removeNetwork(n.id())));
    }

    private record Named(String name, Consumer<AppPass> work) implements AppStep {
        @Override
        public void apply(AppPass app) {
            work.accept(app);
        }
    }
}
