package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.network.EdgeFirewall;
import org.hearth.core.network.EgressConfig;
import org.hearth.core.overlay.OverlayProvider;
import org.hearth.core.overlay.OverlayState;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerRuntime.NetworkInfo;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.supervisor.SupervisorStatus.AppState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.function.Supplier;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One reconcile pass: the overlay, then the declared {@link AppStep}s in order for each installed
 * app, then the pass's own steps (orphans, pools, health records, listeners) and the status. A
 * failing step stops only its own app's pass; a failing pass step stops nothing after it.
 */
final class ReconcilePass {

    private static final Logger LOG = LoggerFactory.getLogger(ReconcilePass.class);

    private final String instance;
    private final ContainerRuntime runtime;
    private final OverlayProvider overlay;
    private final InetAddress publicAddress;
    private final InstalledApps apps;
    private final AppStorage storage;
    private final AppFirewalls firewalls;
    private final WarmPools pools = new WarmPools();
    private final ListenerSet listeners = new ListenerSet(pools);
    private final RunServices services;
    private final ContainerSecrets secrets;
    private final List<AppStep> steps;
    /** Also the upgrade's, for its migration's one-off container. */
    final ContainerSpecs specs;
    /** What the overlay was at the start of the current pass; private listeners bind to its address. */
    private volatile OverlayState overlayNow = OverlayState.down("not started yet", Map.of());
    /** Containers found stopped on the first pass were stopped by hearth down: resuming them is no crash restart. */
    private boolean firstPass = true;
    /** The last failure logged, by app ("pass/step" for the pass's own steps), so a lasting one is logged once. */
    private final Map<String, String> loggedFailures = new HashMap<>();

    ReconcilePass(String instance, ContainerRuntime runtime, OverlayProvider overlay, InetAddress publicAddress,
                  EgressConfig egress, InstalledApps apps, AppStorage storage, Path certificates, Supplier<String> boxDomain) {
        this.instance = instance;
        this.runtime = runtime;
        this.overlay = overlay;
        this.publicAddress = publicAddress;
        this.apps = apps;
        this.storage = storage;
        this.firewalls = new AppFirewalls(new EdgeFirewall(instance, runtime.engineKind()));
        EngineNames names = new EngineNames(instance);
        this.secrets = new ContainerSecrets(ContainerSecrets.defaultRoot(instance), egress.relay(), storage, certificates,
                boxDomain);
        this.specs = new ContainerSpecs(instance, names, egress, secrets, boxDomain);
        this.services = new RunServices(runtime, names, specs, secrets, storage, listeners);
        // The pass over one app, in order; each step reads what the earlier ones decided.
        this.steps = List.of(
                new PlanNetworks(runtime, names, instance),
                // Before any container starts on a new network, the network allows nothing.
                new ApplyFirewall("firewall-before-start", firewalls, names, egress),
                new OpenVolumes(storage),
                services,
                new RunPools(runtime, specs, pools),
                new PlanListeners(names, publicAddress),
                RemoveUndeclared.containers(runtime),
                new ApplyFirewall("firewall", firewalls, names, egress),
                RemoveUndeclared.networks(runtime));
    }

    /** Storage locked: the secrets handed to containers are forgotten with the master key. */
    void forgetSecrets() {
        secrets.clearAll();
    }

    /** The names of the steps of one app's pass, in order (for docs and the log). */
    List<String> stepNames() {
        return steps.stream().map(AppStep::name).toList();
    }

    SupervisorStatus run() {
        Instant now = Instant.now();
        refreshOverlay();
        List<InstalledApps.Installed> installed = apps.list();
        // What this instance has on the engine, listed once per pass and shared by every step.
        Map<String, String> mine = Map.of(HearthLabels.MANAGED, "true", HearthLabels.INSTANCE, instance);
        List<ContainerInfo> containers;
        List<NetworkInfo> networks;
        try {
            containers = runtime.containers(mine);
            networks = runtime.networks(mine);
            loggedFailures.remove("pass/engine");
        } catch (RuntimeException e) {
            // Nothing can be compared without the engine's view: no app is touched, no listener closed.
            logFailure("pass/engine", "list-engine-objects", e);
            return failed("step list-engine-objects failed: " + describe(e));
        }
        List<SupervisorStatus.App> appStatus = new ArrayList<>();
        List<DesiredListener> desired = new ArrayList<>();
        Set<String> failedApps = new HashSet<>();
        Set<String> live = new HashSet<>();
        for (InstalledApps.Installed app : installed) {
            if (app.manifest().isEmpty()) {
                appStatus.add(new SupervisorStatus.App(app.app(), "?", AppState.FAILING, app.problem(), List.of(), List.of()));
                continue;
            }
            AppPass pass = new AppPass(app.manifest().get(), now, firstPass, overlayNow.address(), containers, networks);
            Optional<String> failure = runSteps(pass);
            if (failure.isPresent()) {
                failedApps.add(pass.app());
                // Its containers are not forgotten, nor its listeners closed, because one step failed.
                pass.byRole.values().forEach(infos -> infos.forEach(i -> live.add(i.id())));
            } else {
                desired.addAll(pass.listeners);
            }
            live.addAll(pass.live);
            List<SupervisorStatus.Container> statuses = pass.containerStatuses();
            appStatus.add(new SupervisorStatus.App(pass.app(), pass.manifest.version(),
                    failure.isPresent() ? AppState.FAILING : AppState.of(statuses), failure, statuses, List.of(),
                    storage.quarantine(pass.manifest)));
        }
        firstPass = false;
        List<String> problems = new ArrayList<>();
        Set<String> known = new HashSet<>();
        installed.forEach(i -> known.add(i.app()));
        passStep("orphans", problems, () -> removeOrphans(known, containers, networks));
        passStep("pools", problems, () -> pools.retain(ephemeralRoles(installed)));
        passStep("health-records", problems, () -> services.retain(live));
        Map<String, String> closed = new HashMap<>();
        passStep("open-listeners", problems, () -> closed.putAll(listeners.sync(desired, failedApps,
                "overlay " + overlay.name() + " is down (" + overlayNow.problem().orElse("no address") + ")")));
        List<SupervisorStatus.App> withEndpoints = appStatus.stream().map(a -> new SupervisorStatus.App(a.app(),
                a.version(), a.state(), a.problem(), a.containers(), desired.stream().filter(d -> d.app().equals(a.app()))
                .map(d -> listeners.endpoint(d, Optional.ofNullable(closed.get(d.key())))).toList(), a.quarantine())).toList();
        return new SupervisorStatus(true, ProcessHandle.current().pid(), now.toString(), publicAddress.getHostAddress(),
                SupervisorStatus.Overlay.of(overlay, overlayNow), storage.status(), withEndpoints, problems);
    }

    /** Runs the app's steps in order until one fails; returns the failing step's name and cause. */
    private Optional<String> runSteps(AppPass pass) {
        for (AppStep step : steps) {
            try {
                step.apply(pass);
            } catch (RuntimeException e) {
                String where = step.name() + pass.subject.map(s -> " (" + s + ")").orElse("");
                logFailure(pass.app(), where, e);
                return Optional.of("step " + where + " failed: " + describe(e));
            }
        }
        loggedFailures.remove(pass.app());
        return Optional.empty();
    }

    private void passStep(String name, List<String> problems, Runnable work) {
        try {
            work.run();
            loggedFailures.remove("pass/" + name);
        } catch (RuntimeException e) {
            logFailure("pass/" + name, name, e);
            problems.add("step " + name + " failed: " + describe(e));
        }
    }

    Optional<InetAddress> overlayAddress() {
        return overlayNow.address();
    }

    /** A new overlay address (or none) closes the listeners on the old one before its guard goes. */
    private void refreshOverlay() {
        OverlayState before = overlayNow;
        try {
            overlayNow = overlay.refresh();
        } catch (RuntimeException e) {
            overlayNow = OverlayState.down("overlay " + overlay.name() + " failed: " + e, Map.of());
        }
        before.address().filter(old -> !overlayNow.address().equals(Optional.of(old))).ifPresent(listeners::closeOn);
        firewalls.guard(overlayNow.address().flatMap(a -> overlayNow.device()
                .map(d -> new EdgeFirewall.OverlayGuard(a.getHostAddress(), d))));
    }

    private static Set<String> ephemeralRoles(List<InstalledApps.Installed> installed) {
        Set<String> roles = new HashSet<>();
        installed.forEach(i -> i.manifest().ifPresent(m -> m.containers().forEach((name, c) -> {
            if (c.containerPerUse()) {
                roles.add(m.app() + "/" + name);
            }
        })));
        return roles;
    }

    /** Containers and networks of apps no longer installed; their volumes stay (removal decides about data). */
    private void removeOrphans(Set<String> known, List<ContainerInfo> containers, List<NetworkInfo> networks) {
        Set<String> orphans = new HashSet<>();
        containers.forEach(c -> Optional.ofNullable(c.labels().get(HearthLabels.APP)).filter(a -> !known.contains(a))
                .ifPresent(orphans::add));
        networks.forEach(n -> Optional.ofNullable(n.labels().get(HearthLabels.APP)).filter(a -> !known.contains(a))
                .ifPresent(orphans::add));
        firewalls.retain(known);
        for (String app : orphans) {
            LOG.info("app={} event=orphan-removed", app);
            AppTeardown.remove(runtime, instance, app);
        }
    }

    /** The status when a pass could not run at all: every app shows why, and when it was tried. */
    SupervisorStatus failed(String problem) {
        List<SupervisorStatus.App> appStatus = new ArrayList<>();
        for (InstalledApps.Installed app : apps.list()) {
            appStatus.add(new SupervisorStatus.App(app.app(), app.manifest().map(AppManifest::version).orElse("?"),
                    AppState.FAILING, app.problem().or(() -> Optional.of(problem)), List.of(), List.of()));
        }
        return new SupervisorStatus(true, ProcessHandle.current().pid(), Instant.now().toString(),
                publicAddress.getHostAddress(), SupervisorStatus.Overlay.of(overlay, overlayNow), storage.status(),
                appStatus, List.of(problem));
    }

    /**
     * Logs a failure as one event line with its stack; the same failure in the next passes is not
     * logged again (its status says it), so an engine that stays down does not flood the log.
     */
    private void logFailure(String key, String step, RuntimeException e) {
        String failure = step + ": " + describe(e);
        if (failure.equals(loggedFailures.put(key, failure))) {
            return;
        }
        if (key.startsWith("pass/")) {
            LOG.error("event=reconcile-failed step=\"{}\" error=\"{}\"", step, describe(e), e);
        } else {
            LOG.error("app={} event=reconcile-failed step=\"{}\" error=\"{}\"", key, step, describe(e), e);
        }
    }

    static String describe(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /**
     * Closes every listener and the overlay, then the pools; with {@code stopContainers} also stops
     * the apps' containers and then removes the firewall chains (hearth down). Each part runs even if
     * an earlier one failed, except that the chains stay while a container may still run.
     */
    void shutdown(boolean stopContainers) {
        part("close-listeners", listeners::close);
        part("close-overlay", overlay::close);
        // Warm containers never served anything, but nothing may outlive the pool that vouches for them.
        part("close-pools", pools::close);
        if (stopContainers && part("stop-containers", () -> AppTeardown.stopAll(runtime, instance))) {
            part("remove-firewall", firewalls::remove);
        }
        listeners.cutConnections();
    }

    private static boolean part(String name, Runnable work) {
        try {
            work.run();
            return true;
        } catch (RuntimeException e) {
            LOG.warn("event=shutdown-step-failed step={} error={}", name, e.getMessage());
            return false;
        }
    }
}
