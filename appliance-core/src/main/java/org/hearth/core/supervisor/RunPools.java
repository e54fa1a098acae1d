package org.hearth.core.supervisor;

import org.hearth.core.ephemeral.PoolSettings;
import org.hearth.core.ephemeral.PoolStatus;
import org.hearth.core.ephemeral.WarmPool;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.network.NetworkPlan;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.ReadinessProbe;
import org.hearth.core.supervisor.SupervisorStatus.Health;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The app's ephemeral roles: no container of their own, but a warm pool whose containers each
 * serve one connection. A pool follows the spec (a changed image replaces the warm ones) and is
 * swept against the engine every pass.
 */
final class RunPools implements AppStep {

    private static final Logger LOG = LoggerFactory.getLogger(RunPools.class);

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final WarmPools pools;

    RunPools(ContainerRuntime runtime, ContainerSpecs specs, WarmPools pools) {
        this.runtime = runtime;
        this.specs = specs;
        this.pools = pools;
    }

    @Override
    public String name() {
        return "pools";
    }

    @Override
    public void apply(AppPass app) {
        app.manifest.containers().forEach((name, decl) -> {
            if (decl.containerPerUse()) {
                app.subject = Optional.of("container " + name);
                app.containers.put(name, applyOne(app, name, decl));
            }
        });
        app.subject = Optional.empty();
    }

    private SupervisorStatus.Container applyOne(AppPass app, String name, AppManifest.Container decl) {
        String key = app.app() + "/" + name;
        String lifecycle = ContainerSpecs.lifecycleOf(decl);
        Optional<String> imageId = runtime.imageId(decl.image());
        AppManifest.Pool declared = decl.poolOrDefault();
        PoolSettings settings = new PoolSettings(declared.warmOrDefault(), declared.ceilingOrDefault(),
                declared.waitOrDefault(), decl.health().map(AppManifest.Health::startPeriodOrDefault)
                .orElse(Duration.ofSeconds(60)));
        Optional<WarmPool> existing = pools.get(key);
        // Resized in place: a new pool would not know the old one's containers and destroy them mid-connection.
        existing.filter(p -> !p.settings().equals(settings)).ifPresent(p -> p.useSettings(settings));
        if (imageId.isEmpty()) {
            return new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, Health.STOPPED, 0,
                    Optional.of(decl.image() + " is not built on this machine (run: hearth images build)"),
                    existing.map(WarmPool::status));
        }
        WarmPool pool = pools.getOrCreate(key, work -> {
            // Reached on its ingress network (per-connection) or on a client's edge network (per-message).
            String network = app.plan.attachmentsOf(name).stream().findFirst().map(NetworkPlan.Attachment::network)
                    .orElseThrow(() -> new IllegalStateException(key + " has no network: nothing declares an edge to it"));
            AppManifest.Port port = decl.ports().stream().filter(p -> p.exposure() != AppManifest.Exposure.PRIVATE)
                    .findFirst().orElseThrow();
            // A service that speaks first is ready once it has: its first session has run.
            ReadinessProbe ready = port.protocol().filter(pr -> pr == AppManifest.Protocol.SMTP).isPresent()
                    ? ReadinessProbe.greeting(port.port(), Optional.of(network))
                    : ReadinessProbe.port(port.port(), Optional.of(network));
            LOG.info("app={} container={} event=pool-created warm={} ceiling={} wait_ms={}", app.app(), name,
                    settings.warm(), settings.ceiling(), settings.maxWait().toMillis());
            return new WarmPool(key, settings, runtime, network, port.port(), ready, work);
        });
        ContainerSpec spec = specs.spec(app, name, Map.of());
        pool.useSpec(spec, ContainerSpecs.hash(spec, imageId.get()));
        pool.sweep(app.existing(name));
        PoolStatus status = pool.status();
        Health health = status.problem().isPresent() ? Health.FAILING
                : status.warm() > 0 || status.inUse() > 0 || status.warmTarget() == 0 ? Health.HEALTHY : Health.STARTING;
        return new SupervisorStatus.Container(name, "", decl.image(), lifecycle, status.warm() + status.inUse() > 0,
                health, 0, status.problem(), Optional.of(status));
    }
}
