package org.hearth.core.supervisor;

import org.hearth.core.StatusReport;
import org.hearth.core.ephemeral.SandboxCounts;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.supervisor.SupervisorStatus.Health;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The app's long-running containers: a running container whose spec is unchanged is adopted, a
 * changed one replaced, a crashed one restarted with backoff, and each one's health checked. The
 * edge listeners learn where each service's ports are.
 */
final class RunServices implements AppStep {

    private static final Logger LOG = LoggerFactory.getLogger(RunServices.class);

    private final ContainerRuntime runtime;
    private final EngineNames names;
    private final ContainerSpecs specs;
    private final ContainerSecrets secrets;
    private final AppStorage storage;
    private final ListenerSet listeners;
    private final RestartBackoff backoff = new RestartBackoff();
    private final HealthTracker health;
    /** How long an old container stays after its successor took over, for connections made to it to finish. */
    static final Duration DRAIN = Duration.ofSeconds(5);
    /** How long a service stopped for being idle has to finish what it was doing. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    /** Containers this supervisor stopped for being idle (manifest stop-when-idle), until a connection wakes them. */
    private final Set<String> sleeping = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** When each container that started beside an old one first served (it took over). */
    private final Map<String, Instant> tookOver = new java.util.concurrent.ConcurrentHashMap<>();

    RunServices(ContainerRuntime runtime, EngineNames names, ContainerSpecs specs, ContainerSecrets secrets,
                AppStorage storage, ListenerSet listeners) {
        this.secrets = secrets;
        this.runtime = runtime;
        this.names = names;
        this.specs = specs;
        this.storage = storage;
        this.listeners = listeners;
        this.health = new HealthTracker(runtime);
    }

    @Override
    public String name() {
        return "services";
    }

    @Override
    public void apply(AppPass app) {
        app.manifest.containers().forEach((name, decl) -> {
            if (decl.containerPerUse()) {
                return;
            }
            app.subject = Optional.of("container " + name);
            SupervisorStatus.Container status = applyOne(app, name, decl);
            app.containers.put(name, status);
        });
        app.subject = Optional.empty();
    }

    /** Forgets the health records and take-overs of containers that no longer exist. */
    void retain(Set<String> liveIds) {
        health.retain(liveIds);
        tookOver.keySet().retainAll(liveIds);
        sleeping.retainAll(liveIds);
    }

    private SupervisorStatus.Container applyOne(AppPass app, String name, AppManifest.Container decl) {
        String key = app.app() + "/" + name;
        String lifecycle = ContainerSpecs.lifecycleOf(decl);
        List<ContainerInfo> existing = app.existing(name);
        Optional<String> imageId = runtime.imageId(decl.image());
        // Kept live whatever returns early, so that what is known of them (asleep, health) is not forgotten.
        existing.forEach(i -> app.live.add(i.id()));
        if (imageId.isEmpty()) {
            nothingServes(key, decl);
            return new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, Health.STOPPED, 0,
                    Optional.of(decl.image() + " is not built on this machine (run: hearth images build)"), Optional.empty());
        }
        AppPass.Unavailable unavailable = app.storageProblems.get(name);
        if (unavailable != null) {
            // Turned away at once, rather than held for a container that waits for the owner.
            nothingServes(key, decl);
            if (unavailable.stop()) {
                return stopForStorage(key, name, decl, lifecycle, existing, unavailable.reason());
            }
            return new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, Health.STOPPED, 0,
                    Optional.of(unavailable.reason()), Optional.empty());
        }
        ContainerSpec spec = specs.spec(app, name, app.dataFolders.getOrDefault(name, Map.of()));
        String base = names.container(app.app(), name);
        // Hashed under the service's own name, whichever of two names the container gets.
        String hash = ContainerSpecs.hash(spec.withName(base), imageId.get());
        ContainerInfo keep = existing.stream()
                .filter(i -> hash.equals(i.labels().get(HearthLabels.SPEC_HASH)))
                .max(Comparator.comparing(ContainerInfo::running))
                .orElse(null);
        // Before anything is removed or made: a folder that cannot be written leaves the containers as they are.
        secrets.refresh(app.app(), name, decl, keep == null);
        ContainerInfo current = keep;
        List<ContainerInfo> others = existing.stream().filter(i -> current == null || !i.id().equals(current.id())).toList();
        // Beside: the one serving now stays while its successor starts; a role never has more than these two.
        Optional<ContainerInfo> old = app.manifest.rolloutOf(name) == AppManifest.Rollout.BESIDE
                ? servingAmong(others, decl, app.now) : Optional.empty();
        others.stream().filter(o -> old.isEmpty() || !o.id().equals(old.get().id())).forEach(o -> replaced(app, name, o));
        Optional<Duration> idleStop = decl.idleStop();
        if (idleStop.isPresent() && keep != null && old.isEmpty()) {
            List<String> upstreams = decl.ports().stream().map(p -> key + "/" + p.name()).toList();
            // Stopped by this supervisor for being idle, or found stopped by a stop (not a crash) when the
            // supervisor starts: it waits for a connection rather than start for nobody (a box reboots
            // with its webmail asleep). One stopped for storage starts again, to prove it still works.
            if (!keep.running() && (sleeping.contains(keep.id()) || app.firstPass && stoppedCleanly(keep))) {
                sleeping.add(keep.id());
                if (upstreams.stream().noneMatch(listeners::wanted)) {
                    return asleep(app, key, name, decl, lifecycle, keep, upstreams);
                }
                keep = wake(app, name, keep);
            } else if (keep.running() && keep.startedAt().orElse(app.now).plus(idleStop.get()).isBefore(app.now)
                    && health.check(keep, decl, app.now) == Health.HEALTHY
                    && listeners.sleepIfUnusedSince(upstreams, app.now.minus(idleStop.get()))) {
                // Its listeners hold new connections from now on, rather than send them to a server going
                // away; asleep before the stop, so a stop that fails half-way is not taken for a crash.
                sleeping.add(keep.id());
                health.forget(keep);
                runtime.stop(keep.id(), STOP_GRACE);
                LOG.info("app={} container={} event=stopped-idle id={} idle={}", app.app(), name, keep.id().substring(0, 12), idleStop.get());
                return asleep(app, key, name, decl, lifecycle, keep, upstreams);
            }
        }
        boolean baseTaken = old.filter(o -> o.name().replaceFirst("^/", "").equals(base)).isPresent();
        Optional<String> problem = Optional.empty();
        try {
            keep = start(app, key, name, spec.withName(baseTaken ? base + "-next" : base), hash, keep);
        } catch (RuntimeException e) {
            problem = Optional.of(e.getMessage());
            LOG.warn("app={} container={} event=start-failed error={}", app.app(), name, e.getMessage());
        }
        // The old one serves until the new one is healthy (an upgrade rolled back finds it still there),
        // then stays DRAIN more for connections made to it; meanwhile each may reach the role's peers.
        Health verdict = keep == null ? Health.STOPPED : health.check(keep, decl, app.now);
        Optional<ContainerInfo> serving = Optional.ofNullable(keep);
        if (old.isPresent()) {
            boolean newServes = verdict == Health.HEALTHY;
            boolean drained = newServes && !tookOver.computeIfAbsent(keep.id(), id -> app.now).plus(DRAIN).isAfter(app.now);
            if (drained) {
                replaced(app, name, old.get());
            } else {
                app.live.add(old.get().id());
                if (newServes) {
                    app.beside.put(name, old.get());
                } else {
                    serving = old;
                    Optional.ofNullable(keep).filter(ContainerInfo::running).ifPresent(k -> app.beside.put(name, k));
                }
            }
        }
        String ingress = serving.map(t -> t.addresses().get(names.ingressNetwork(app.app(), name))).orElse(null);
        boolean reachable = ingress != null && serving.get().running();
        // One that has not passed its first check yet gets no connections: they wait for it, unless
        // it keeps crashing (then they are turned away at once, as when nothing runs).
        boolean starting = reachable && verdict == Health.STARTING && serving.get().id().equals(keep.id())
                && !backoff.crashLooping(key, app.now);
        for (AppManifest.Port p : decl.ports()) {
            if (starting) {
                listeners.starting(key + "/" + p.name());
            } else {
                listeners.target(key + "/" + p.name(),
                        reachable ? Optional.of(new InetSocketAddress(ingress, p.port())) : Optional.empty());
            }
        }
        if (keep == null) {
            return new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, Health.STOPPED,
                    backoff.total(key), problem, Optional.empty());
        }
        app.live.add(keep.id());
        app.running.put(name, serving.get());
        if (backoff.crashLooping(key, app.now) && verdict != Health.HEALTHY) {
            verdict = Health.CRASH_LOOPING;
        }
        if (verdict == Health.UNHEALTHY && problem.isEmpty()) {
            problem = health.reason(keep);
        }
        return new SupervisorStatus.Container(name, keep.id(), decl.image(), lifecycle, keep.running(), verdict,
                backoff.total(key), problem, Optional.empty(), sandboxCounts(decl, keep), report(decl, keep));
    }

    /** Ended by a stop (SIGTERM, which a JVM answers with 143), not by a crash. */
    private static boolean stoppedCleanly(ContainerInfo info) {
        return info.exitCode().filter(code -> code == 0 || code == 143).isPresent();
    }

    /** A service stopped for being idle: its listeners hold connections, which wake it at the next pass. */
    private SupervisorStatus.Container asleep(AppPass app, String key, String name, AppManifest.Container decl,
                                              String lifecycle, ContainerInfo keep, List<String> upstreams) {
        upstreams.forEach(listeners::asleep);
        return new SupervisorStatus.Container(name, keep.id(), decl.image(), lifecycle, false, Health.ASLEEP,
                backoff.total(key), Optional.empty(), Optional.empty());
    }

    /** Starts a service a connection asks for; not a restart after a crash, so the backoff does not count it. */
    private ContainerInfo wake(AppPass app, String name, ContainerInfo keep) {
        sleeping.remove(keep.id());
        runtime.start(keep.id());
        LOG.info("app={} container={} event=woken id={}", app.app(), name, keep.id().substring(0, 12));
        return runtime.container(keep.id()).orElse(keep);
    }

    private void replaced(AppPass app, String name, ContainerInfo other) {
        Map<String, InetSocketAddress> held = listeners.startingInsteadOf(other.addresses().values());
        LOG.info("app={} container={} event=replaced id={}", app.app(), name, other.id().substring(0, 12));
        try {
            runtime.remove(other.id());
        } catch (RuntimeException e) {
            // Still there: it keeps its connections until a later pass removes it.
            listeners.restore(held);
            throw e;
        }
    }

    /** The role's ports lead nowhere: new connections are turned away at once. */
    private void nothingServes(String key, AppManifest.Container decl) {
        decl.ports().forEach(p -> listeners.target(key + "/" + p.name(), Optional.empty()));
    }

    /**
     * Of a role's containers from earlier specs, the one to keep serving while its successor starts:
     * the newest healthy one (the one that took over last), else the oldest still running.
     */
    private Optional<ContainerInfo> servingAmong(List<ContainerInfo> others, AppManifest.Container decl, Instant now) {
        List<ContainerInfo> running = others.stream().filter(ContainerInfo::running).toList();
        Comparator<ContainerInfo> started = Comparator.comparing(o -> o.startedAt().orElse(Instant.EPOCH));
        return running.stream().filter(o -> health.check(o, decl, now) == Health.HEALTHY).max(started)
                .or(() -> running.stream().min(started));
    }

    /** A sandbox host's counts, asked on its health port: how many sandboxes it made and ended. */
    private static Optional<SandboxCounts> sandboxCounts(AppManifest.Container decl, ContainerInfo keep) {
        Optional<AppManifest.Port> status = decl.health().flatMap(AppManifest.Health::tcp).flatMap(decl::port);
        if (!decl.sandboxHost() || !keep.running() || status.isEmpty()) {
            return Optional.empty();
        }
        // Any of its networks will do, as for its health check.
        return keep.addresses().values().stream()
                .flatMap(a -> SandboxCounts.read(new InetSocketAddress(a, status.get().port()), Duration.ofSeconds(1)).stream())
                .findFirst();
    }

    /** The facts the container answers on its report port, asked on any of its networks; none if it does not answer. */
    private static Map<String, String> report(AppManifest.Container decl, ContainerInfo keep) {
        Optional<AppManifest.Port> port = decl.report().flatMap(decl::port);
        if (!keep.running() || port.isEmpty()) {
            return Map.of();
        }
        return keep.addresses().values().stream()
                .flatMap(a -> StatusReport.read(new InetSocketAddress(a, port.get().port()), Duration.ofSeconds(1)).stream())
                .findFirst().orElse(Map.of());
    }

    /** Creates, resumes or restarts the container as needed; returns what runs now (null if none). */
    private ContainerInfo start(AppPass app, String key, String name, ContainerSpec spec, String hash, ContainerInfo keep) {
        if (keep == null) {
            // A new container starts with a clean record: earlier crashes were another spec's.
            backoff.forget(key);
            String id = runtime.create(spec.withLabel(HearthLabels.SPEC_HASH, hash));
            runtime.start(id);
            LOG.info("app={} container={} event=created id={}", app.app(), name, id.substring(0, 12));
            return runtime.container(id).orElseThrow();
        }
        if (keep.running()) {
            return keep;
        }
        if (app.firstPass || storage.resumes(key)) {
            runtime.start(keep.id());
            LOG.info("app={} container={} event=resumed id={}", app.app(), name, keep.id().substring(0, 12));
            return runtime.container(keep.id()).orElse(keep);
        }
        if (backoff.mayRestart(key, app.now)) {
            runtime.start(keep.id());
            backoff.restarted(key, app.now);
            LOG.info("app={} container={} event=restarted id={} exit={} restarts={}", app.app(), name,
                    keep.id().substring(0, 12), keep.exitCode().map(String::valueOf).orElse("?"), backoff.total(key));
            return runtime.container(keep.id()).orElse(keep);
        }
        return keep;
    }

    /** The container stays stopped (not removed: after unlock the same one resumes). */
    private SupervisorStatus.Container stopForStorage(String key, String name, AppManifest.Container decl,
                                                      String lifecycle, List<ContainerInfo> existing, String reason) {
        for (ContainerInfo info : existing) {
            if (info.running()) {
                LOG.info("container={} event=stopped reason=storage-locked id={}", key, info.id().substring(0, 12));
                runtime.stop(info.id(), Duration.ofSeconds(10));
            }
            storage.stoppedForStorage(key);
        }
        String id = existing.isEmpty() ? "" : existing.get(0).id();
        return new SupervisorStatus.Container(name, id, decl.image(), lifecycle, false, Health.LOCKED, 0,
                Optional.of(reason), Optional.empty());
    }
}
