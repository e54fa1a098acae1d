package org.hearth.core.supervisor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.hearth.core.HearthHome;
import org.hearth.core.ephemeral.PoolSettings;
import org.hearth.core.ephemeral.WarmPool;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.network.EdgeFirewall;
import org.hearth.core.network.EdgeListener;
import org.hearth.core.network.EdgeNetworkPlanner;
import org.hearth.core.network.NetworkPlan;
import org.hearth.core.network.Upstream;
import org.hearth.core.overlay.OverlayProvider;
import org.hearth.core.overlay.OverlayState;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.volume.AppVolumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The reconcile loop: desired state (installed manifests) against actual state (engine objects
 * found by labels). Every step is idempotent, so a pass after a crash, a restart or a half-done
 * pass converges the same way. Running containers whose spec is unchanged are adopted, never
 * recreated.
 */
public final class Supervisor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);
    private static final Duration PASS_INTERVAL = Duration.ofSeconds(1);
    private static final String LOCKED = "locked";
    private static final ObjectMapper SPEC_JSON = new ObjectMapper().registerModule(new Jdk8Module())
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private final HearthHome home;
    private final ContainerRuntime runtime;
    private final OverlayProvider overlay;
    /** What the overlay was at the start of the current pass; private listeners bind to its address. */
    private OverlayState overlayNow = OverlayState.down("not started yet", Map.of());
    private final InetAddress publicAddress;
    /** Empty when this machine offers no encrypted storage (and plain was not asked for). */
    private final Optional<AppVolumes> volumes;
    private final InstalledApps apps;
    private final HealthTracker health;
    private final RestartBackoff backoff = new RestartBackoff();
    private final Map<String, EdgeListener> listeners = new HashMap<>();
    /** Each open listener's {@link DesiredListener#shape()} when it was opened. */
    private final Map<String, String> listenerShapes = new HashMap<>();
    private final EdgeFirewall firewall;
    private final Map<String, List<EdgeFirewall.NetworkRule>> firewallRules = new HashMap<>();
    private final Map<String, InetSocketAddress> targets = new ConcurrentHashMap<>();
    /** Network id to the host's address on it; a network keeps its gateway for life. */
    private final Map<String, String> gateways = new HashMap<>();
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "edge-connection");
        t.setDaemon(true);
        return t;
    });
    private final EngineNames names;
    /** Warm pools of the ephemeral roles, by "app/container". */
    private final Map<String, WarmPool> pools = new ConcurrentHashMap<>();
    private final ExecutorService poolWork = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "warm-pool");
        t.setDaemon(true);
        return t;
    });
    /** Cleared by {@link #stop} and, under the lock every pass holds, by {@link #shutdown}. */
    private volatile boolean running = true;
    private final CountDownLatch shutdownDone = new CountDownLatch(1);
    /** Containers stopped because storage locked: starting them again after unlock is no crash restart. */
    private final Set<String> stoppedForStorage = ConcurrentHashMap.newKeySet();
    /** Containers found stopped on the first pass were stopped by hearth down: resuming them is no crash restart. */
    private boolean firstPass = true;
    /** The last pass failure logged, by app ("" for the whole pass), so a lasting one is logged once. */
    private final Map<String, String> loggedFailures = new HashMap<>();

    public Supervisor(HearthHome home, ContainerRuntime runtime, OverlayProvider overlay, InetAddress publicAddress,
                      Optional<AppVolumes> volumes) {
        this.home = home;
        this.runtime = runtime;
        this.overlay = overlay;
        this.publicAddress = publicAddress;
        this.volumes = volumes;
        this.apps = new InstalledApps(home.stateDir("apps"));
        this.health = new HealthTracker(runtime);
        this.firewall = new EdgeFirewall(home.instanceId());
        this.names = new EngineNames(home.instanceId());
    }

    public static Path statusFile(HearthHome home) {
        return home.state().resolve("status.json");
    }

    /** Reconciles once a second, and at once when an app is installed or removed, until {@link #stop()}. */
    public void run() {
        LOG.info("event=supervisor-started pid={} overlay={} public={}", ProcessHandle.current().pid(),
                overlay.name(), publicAddress.getHostAddress());
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            apps.dir().register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (running) {
                long start = System.nanoTime();
                try {
                    passAndRecordStatus();
                } catch (RuntimeException e) {
                    LOG.error("event=reconcile-failed error=\"{}\"", e, e);
                }
                long left = PASS_INTERVAL.toNanos() - (System.nanoTime() - start);
                WatchKey key = left > 0 && running ? watch.poll(left, TimeUnit.NANOSECONDS) : null;
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + apps.dir(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void stop() {
        running = false;
    }

    /**
     * One pass with its status written for the CLI; none once stopping, or a pass that waited for
     * the lock would make again what shutdown removed (firewall chains, the overlay interface).
     */
    private synchronized void passAndRecordStatus() {
        if (!running) {
            return;
        }
        SupervisorStatus status = null;
        String cause = "it stopped with an error (see the log)";
        try {
            status = reconcileOnce();
        } catch (RuntimeException e) {
            cause = describe(e);
            throw e;
        } finally {
            // Written whatever failed: a status left from an earlier pass would look fresh to hearth status.
            (status != null ? status : failedPass("the reconcile pass", cause)).writeTo(statusFile(home));
        }
    }

    /** Where one app's pass had got to, so a failure can say which part failed. */
    private static final class Progress {
        String part = "planning its networks";
    }

    /** What the app set aside for its owner on its open volumes. */
    private List<SupervisorStatus.Quarantined> quarantine(List<InstalledApps.Installed> installed, String app) {
        if (volumes.isEmpty()) {
            return List.of();
        }
        List<SupervisorStatus.Quarantined> items = new ArrayList<>();
        installed.stream().filter(i -> i.app().equals(app)).flatMap(i -> i.manifest().stream())
                .flatMap(m -> m.containers().values().stream()).flatMap(c -> c.volumes().stream())
                .map(v -> volumeName(app, v.name())).distinct()
                .filter(volumes.get()::isOpen)
                .forEach(v -> items.addAll(QuarantineShelf.read(v, volumes.get().backend().dataFolder(v))));
        return items;
    }

    /** The status when a pass could not run at all: every app shows why, and when it was tried. */
    private SupervisorStatus failedPass(String part, String cause) {
        Optional<String> problem = Optional.of(part + " failed: " + cause);
        List<SupervisorStatus.App> appStatus = new ArrayList<>();
        for (InstalledApps.Installed app : apps.list()) {
            appStatus.add(new SupervisorStatus.App(app.app(), app.manifest().map(AppManifest::version).orElse("?"),
                    "failing", app.problem().or(() -> problem), List.of(), List.of()));
        }
        return new SupervisorStatus(true, ProcessHandle.current().pid(), Instant.now().toString(),
                publicAddress.getHostAddress(), SupervisorStatus.Overlay.of(overlay, overlayNow), storageStatus(), appStatus);
    }

    /**
     * Logs a pass failure as one event line with its stack; the same failure in the next passes is
     * not logged again (its status says it), so an engine that stays down does not flood the log.
     */
    private void logFailure(String app, String part, RuntimeException e) {
        String failure = part + ": " + describe(e);
        if (failure.equals(loggedFailures.put(app, failure))) {
            return;
        }
        if (app.isEmpty()) {
            LOG.error("event=reconcile-failed part=\"{}\" error=\"{}\"", part, describe(e), e);
        } else {
            LOG.error("app={} event=reconcile-failed part=\"{}\" error=\"{}\"", app, part, describe(e), e);
        }
    }

    private static String describe(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** One pass over every installed app, orphans and listeners; returns what it saw. */
    synchronized SupervisorStatus reconcileOnce() {
        Instant now = Instant.now();
        OverlayState before = overlayNow;
        try {
            overlayNow = overlay.refresh();
        } catch (RuntimeException e) {
            overlayNow = OverlayState.down("overlay " + overlay.name() + " failed: " + e, Map.of());
        }
        if (!overlayGuard(overlayNow).equals(overlayGuard(before))) {
            // Listeners on the old address go before its guard does, whatever happens later in this pass.
            before.address().filter(old -> !overlayNow.address().equals(Optional.of(old)))
                    .ifPresent(this::closeListenersOn);
            applyAllFirewallRules();
        }
        List<InstalledApps.Installed> installed = apps.list();
        Map<String, DesiredListener> desiredListeners = new LinkedHashMap<>();
        List<SupervisorStatus.App> appStatus = new ArrayList<>();
        Set<String> liveContainers = new HashSet<>();
        // What this instance has on the engine, listed once per pass and shared by every step below.
        Map<String, String> mine = Map.of(HearthLabels.MANAGED, "true", HearthLabels.INSTANCE, home.instanceId());
        List<ContainerInfo> containers;
        List<ContainerRuntime.NetworkInfo> networks;
        try {
            containers = runtime.containers(mine);
            networks = runtime.networks(mine);
            loggedFailures.remove("");
        } catch (RuntimeException e) {
            // Nothing can be compared without the engine's view: no app is touched, no listener closed.
            logFailure("", "listing-engine-objects", e);
            return failedPass("listing this instance's containers and networks", describe(e));
        }
        // Apps whose pass threw: their listeners stay as they were rather than close mid-connection.
        Set<String> failedApps = new HashSet<>();
        for (InstalledApps.Installed app : installed) {
            if (app.manifest().isEmpty()) {
                appStatus.add(new SupervisorStatus.App(app.app(), "?", "failing", app.problem(), List.of(), List.of()));
                continue;
            }
            AppManifest m = app.manifest().get();
            Progress progress = new Progress();
            try {
                appStatus.add(apply(m, now, desiredListeners, liveContainers, containers, networks, progress));
                loggedFailures.remove(m.app());
            } catch (RuntimeException e) {
                // One app's failure is its own: the other apps are still reconciled in this pass.
                logFailure(m.app(), progress.part, e);
                failedApps.add(m.app());
                containers.stream().filter(c -> m.app().equals(c.labels().get(HearthLabels.APP)))
                        .forEach(c -> liveContainers.add(c.id()));
                desiredListeners.values().removeIf(d -> d.app().equals(m.app()));
                appStatus.add(new SupervisorStatus.App(m.app(), m.version(), "failing",
                        Optional.of(progress.part + " failed: " + describe(e)), List.of(), List.of()));
            }
        }
        removeOrphans(installed, containers, networks);
        Set<String> wantedPools = new HashSet<>();
        installed.forEach(i -> i.manifest().ifPresent(m -> m.containers().forEach((name, c) -> {
            if (c.ephemeral()) {
                wantedPools.add(m.app() + "/" + name);
            }
        })));
        pools.keySet().stream().filter(k -> !wantedPools.contains(k)).toList().forEach(k -> pools.remove(k).close());
        health.retain(liveContainers);
        firstPass = false;
        Map<String, Optional<String>> listenerProblems = syncListeners(desiredListeners, failedApps);
        List<SupervisorStatus.App> withEndpoints = new ArrayList<>();
        for (SupervisorStatus.App a : appStatus) {
            List<SupervisorStatus.Endpoint> endpoints = new ArrayList<>();
            desiredListeners.values().stream().filter(d -> d.app().equals(a.app())).forEach(d -> {
                Optional<String> problem = listenerProblems.getOrDefault(d.key(), Optional.empty());
                EdgeListener listener = listeners.get(d.key());
                endpoints.add(new SupervisorStatus.Endpoint(d.container(), d.port(), d.exposure(),
                        d.bind().map(InetAddress::getHostAddress).orElse("-"), d.listen(), listener != null,
                        listener == null ? 0 : listener.accepted(), listener == null ? 0 : listener.refused(), problem));
            });
            withEndpoints.add(new SupervisorStatus.App(a.app(), a.version(), a.state(), a.problem(), a.containers(), endpoints,
                    quarantine(installed, a.app())));
        }
        return new SupervisorStatus(true, ProcessHandle.current().pid(), now.toString(), publicAddress.getHostAddress(),
                SupervisorStatus.Overlay.of(overlay, overlayNow), storageStatus(), withEndpoints);
    }

    /**
     * A listener the installed apps ask for; {@code bind} is empty when its address is unavailable.
     * {@code source} finds each connection's container; {@code refusal} is said to one turned away.
     */
    private record DesiredListener(String key, String app, String container, String port, String exposure,
                                   Optional<InetAddress> bind, int listen, boolean pooled, Upstream.Source source,
                                   Optional<byte[]> refusal) {
        /** What a listener is bound to and how it finds upstreams: a change needs a new listener. */
        String shape() {
            return bind.map(InetAddress::getHostAddress).orElse("-") + ":" + listen + (pooled ? " pooled" : " service")
                    + (refusal.isPresent() ? " refusal" : "");
        }
    }

    /** Each connection to an ephemeral role gets its own container from the role's pool. */
    private Upstream.Source poolSource(String poolKey) {
        return () -> Optional.ofNullable(pools.get(poolKey)).flatMap(WarmPool::claim);
    }

    private Upstream.Source serviceSource(String listenerKey) {
        return () -> Optional.ofNullable(targets.get(listenerKey)).map(Upstream::fixed);
    }

    private static Optional<byte[]> refusalOf(AppManifest.Port p) {
        return p.protocol().filter(pr -> pr == AppManifest.Protocol.SMTP)
                .map(pr -> "421 4.3.2 Too busy, try again later\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** The host's own address on a network; a network keeps its gateway for life, so it is asked once. */
    private Optional<String> gatewayOf(String networkId) {
        if (networkId == null) {
            return Optional.empty();
        }
        Optional<String> gateway = Optional.ofNullable(gateways.get(networkId)).or(() -> runtime.gateway(networkId));
        gateway.ifPresent(g -> gateways.put(networkId, g));
        return gateway;
    }

    private SupervisorStatus.App apply(AppManifest m, Instant now, Map<String, DesiredListener> desiredListeners,
                                       Set<String> liveContainers, List<ContainerInfo> instanceContainers,
                                       List<ContainerRuntime.NetworkInfo> instanceNetworks, Progress progress) {
        Map<String, String> appLabels = AppTeardown.labelsOf(home.instanceId(), m.app());
        NetworkPlan plan = EdgeNetworkPlanner.plan(names, m);
        Map<String, String> networkIds = new HashMap<>();
        try {
            plan.networks().forEach((name, kind) -> {
                Map<String, String> labels = new HashMap<>(appLabels);
                labels.put(HearthLabels.ROLE, kind.name().toLowerCase());
                networkIds.put(name, runtime.ensureInternalNetwork(name, labels));
            });
        } catch (RuntimeException e) {
            return new SupervisorStatus.App(m.app(), m.version(), "failing",
                    Optional.of("cannot create networks: " + e.getMessage()), List.of(), List.of());
        }

        Map<String, List<ContainerInfo>> byRole = new HashMap<>();
        Map<String, ContainerInfo> current = new HashMap<>();
        for (ContainerInfo info : instanceContainers) {
            if (!m.app().equals(info.labels().get(HearthLabels.APP))) {
                continue;
            }
            String role = info.labels().getOrDefault(HearthLabels.ROLE, "");
            byRole.computeIfAbsent(role, k -> new ArrayList<>()).add(info);
            if (info.running()) {
                current.put(role, info);
            }
        }
        try {
            // Before any container starts on a new network, the network allows nothing.
            applyFirewall(m.app(), firewallRules(m, plan, networkIds, current, gatewaysOf(networkIds)));
        } catch (RuntimeException e) {
            return new SupervisorStatus.App(m.app(), m.version(), "failing",
                    Optional.of("cannot apply firewall rules: " + e.getMessage()), List.of(), List.of());
        }
        List<SupervisorStatus.Container> containers = new ArrayList<>();
        m.containers().forEach((name, decl) -> {
            progress.part = "container " + name;
            String key = m.app() + "/" + name;
            Applied applied = decl.ephemeral()
                    ? applyPool(m, name, decl, plan, networkIds, byRole.getOrDefault(name, List.of()))
                    : applyContainer(m, name, decl, plan, networkIds, byRole.getOrDefault(name, List.of()), now,
                    liveContainers);
            containers.add(applied.status());
            applied.info().ifPresent(info -> current.put(name, info));
            for (AppManifest.Port p : decl.ports()) {
                if (p.exposure() == AppManifest.Exposure.INTERNAL || p.listen().isEmpty()) {
                    continue;
                }
                String listenerKey = key + "/" + p.name();
                Optional<InetAddress> bind = p.exposure() == AppManifest.Exposure.PUBLIC
                        ? Optional.of(publicAddress) : overlayNow.address();
                Upstream.Source source = decl.ephemeral() ? poolSource(key) : serviceSource(listenerKey);
                desiredListeners.put(listenerKey, new DesiredListener(listenerKey, m.app(), name, p.name(),
                        p.exposure().name().toLowerCase(), bind, p.listen().get(), decl.ephemeral(), source, refusalOf(p)));
                if (p.alsoOnOverlay()) {
                    // The same port for the owner's devices, on the overlay and under its guard.
                    String overlayKey = listenerKey + "@overlay";
                    desiredListeners.put(overlayKey, new DesiredListener(overlayKey, m.app(), name, p.name(), "public",
                            overlayNow.address(), p.listen().get(), decl.ephemeral(), source, refusalOf(p)));
                }
            }
        });
        progress.part = "hand-off listeners";
        handOffListeners(m, networkIds, desiredListeners);
        progress.part = "removing containers no longer declared";
        byRole.forEach((role, infos) -> {
            if (!m.containers().containsKey(role)) {
                infos.forEach(i -> {
                    LOG.info("app={} container={} event=removed reason=not-in-manifest", m.app(), role);
                    runtime.remove(i.id());
                });
            }
        });
        Optional<String> firewallProblem = Optional.empty();
        try {
            applyFirewall(m.app(), firewallRules(m, plan, networkIds, current, gatewaysOf(networkIds)));
        } catch (RuntimeException e) {
            firewallProblem = Optional.of("cannot apply firewall rules: " + e.getMessage());
        }
        progress.part = "removing networks no longer planned";
        Set<String> planned = plan.networks().keySet();
        instanceNetworks.stream().filter(n -> m.app().equals(n.labels().get(HearthLabels.APP)))
                .filter(n -> !planned.contains(n.name()))
                .forEach(n -> runtime.removeNetwork(n.id()));
        return new SupervisorStatus.App(m.app(), m.version(), firewallProblem.isPresent() ? "failing" : appState(containers),
                firewallProblem, containers, List.of());
    }

    private Map<String, String> gatewaysOf(Map<String, String> networkIds) {
        Map<String, String> out = new HashMap<>();
        networkIds.forEach((name, id) -> gatewayOf(id).ifPresent(g -> out.put(name, g)));
        return out;
    }

    /**
     * The firewall rules of one app's networks, given the service containers it runs now (by
     * manifest name) and each network's gateway. A pool of ephemeral clients is "any member" (its
     * containers come and go faster than rules); an ephemeral server is reached only through the
     * hand-off listener on the gateway.
     */
    private List<EdgeFirewall.NetworkRule> firewallRules(AppManifest m, NetworkPlan plan,
                                                         Map<String, String> networkIds,
                                                         Map<String, ContainerInfo> running,
                                                         Map<String, String> gateways) {
        Map<String, EdgeFirewall.NetworkRule> rules = new LinkedHashMap<>();
        plan.networks().keySet().forEach(name -> rules.put(name,
                EdgeFirewall.NetworkRule.closed(EdgeFirewall.NetworkRule.bridgeOf(networkIds.get(name)))));
        m.containers().forEach((from, decl) -> decl.edges().stream().map(AppManifest.Edge::to).distinct().forEach(to -> {
            String network = names.edgeNetwork(m.app(), from, to);
            List<Integer> ports = decl.edges().stream().filter(e -> e.to().equals(to))
                    .map(e -> m.containers().get(to).port(e.port()).orElseThrow().port()).distinct().toList();
            // Empty for a pool of clients: any member may connect.
            Optional<String> client = decl.ephemeral() ? Optional.empty()
                    : Optional.ofNullable(running.get(from)).map(i -> i.addresses().get(network));
            boolean handOff = m.containers().get(to).ephemeral();
            Optional<String> server = handOff ? Optional.ofNullable(gateways.get(network))
                    : Optional.ofNullable(running.get(to)).map(i -> i.addresses().get(network));
            if ((client.isEmpty() && !decl.ephemeral()) || server.isEmpty()) {
                return;
            }
            List<EdgeFirewall.Flow> flows = ports.stream()
                    .map(port -> new EdgeFirewall.Flow(client, server.get(), port)).toList();
            String bridge = EdgeFirewall.NetworkRule.bridgeOf(networkIds.get(network));
            rules.put(network, handOff ? new EdgeFirewall.NetworkRule(bridge, List.of(), flows)
                    : new EdgeFirewall.NetworkRule(bridge, flows, List.of()));
        }));
        return List.copyOf(rules.values());
    }

    /**
     * A per-message server's clients dial its name, which their /etc/hosts points at the gateway of
     * their edge network; the supervisor listens there on the server's port and hands each
     * connection (one message) to a fresh container of the server's pool.
     */
    private void handOffListeners(AppManifest m, Map<String, String> networkIds,
                                  Map<String, DesiredListener> desiredListeners) {
        m.containers().forEach((from, decl) -> decl.edges().forEach(edge -> {
            AppManifest.Container target = m.containers().get(edge.to());
            if (!target.ephemeral()) {
                return;
            }
            AppManifest.Port port = target.port(edge.port()).orElseThrow();
            String network = names.edgeNetwork(m.app(), from, edge.to());
            Optional<InetAddress> bind = gatewayOf(networkIds.get(network)).map(Supervisor::address);
            String key = m.app() + "/" + edge.to() + "/" + port.name() + "/from-" + from;
            desiredListeners.put(key, new DesiredListener(key, m.app(), edge.to(), port.name() + " (from " + from + ")",
                    "internal", bind, port.port(), true, poolSource(m.app() + "/" + edge.to()), Optional.empty()));
        }));
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + literal, e);
        }
    }

    private void applyFirewall(String app, List<EdgeFirewall.NetworkRule> rules) {
        firewallRules.put(app, rules);
        applyAllFirewallRules();
    }

    private void applyAllFirewallRules() {
        List<EdgeFirewall.NetworkRule> all = new ArrayList<>();
        new TreeMap<>(firewallRules).values().forEach(all::addAll);
        firewall.apply(all, overlayGuard(overlayNow));
    }

    private static Optional<EdgeFirewall.OverlayGuard> overlayGuard(OverlayState state) {
        return state.address().flatMap(a -> state.device().map(d -> new EdgeFirewall.OverlayGuard(a.getHostAddress(), d)));
    }

    private record Applied(SupervisorStatus.Container status, Optional<ContainerInfo> info) {
    }

    private Applied applyContainer(AppManifest m, String name, AppManifest.Container decl, NetworkPlan plan,
                                   Map<String, String> networkIds, List<ContainerInfo> existing, Instant now,
                                   Set<String> liveContainers) {
        String app = m.app();
        String key = app + "/" + name;
        String lifecycle = decl.lifecycle().name().toLowerCase().replace('_', '-');
        Optional<String> imageId = runtime.imageId(decl.image());
        if (imageId.isEmpty()) {
            return new Applied(new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, HealthTracker.STOPPED, 0,
                    Optional.of(decl.image() + " is not built on this machine (run: hearth images build)"), Optional.empty()), Optional.empty());
        }
        Map<String, Path> dataFolders = new TreeMap<>();
        if (!decl.volumes().isEmpty()) {
            if (volumes.isEmpty()) {
                return stopForStorage(key, name, decl, lifecycle, existing, "no encrypted storage on this machine"
                        + " (see hearth doctor); for development only: hearth up --insecure-plain-storage");
            }
            try {
                for (AppManifest.Volume v : decl.volumes()) {
                    dataFolders.put(v.path(), volumes.get().open(volumeName(app, v.name()), v.sizeBytes()));
                }
            } catch (AppVolumes.LockedException e) {
                return stopForStorage(key, name, decl, lifecycle, existing, e.getMessage());
            } catch (IOException e) {
                LOG.warn("app={} container={} event=volume-failed error={}", app, name, e.getMessage());
                return new Applied(new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false,
                        HealthTracker.STOPPED, 0, Optional.of(e.getMessage()), Optional.empty()), Optional.empty());
            }
        }
        ContainerSpec spec = spec(m, name, decl, plan, networkIds, dataFolders).withName(names.container(app, name));
        String ingressNetwork = names.ingressNetwork(app, name);
        String hash = specHash(spec, imageId.get());
        ContainerInfo keep = existing.stream()
                .filter(i -> hash.equals(i.labels().get(HearthLabels.SPEC_HASH)))
                .max(Comparator.comparing(ContainerInfo::running))
                .orElse(null);
        for (ContainerInfo other : existing) {
            if (keep == null || !other.id().equals(keep.id())) {
                LOG.info("app={} container={} event=replaced id={}", app, name, other.id().substring(0, 12));
                runtime.remove(other.id());
            }
        }
        Optional<String> problem = Optional.empty();
        try {
            if (keep == null) {
                // A new container starts with a clean record: earlier crashes were another spec's.
                backoff.forget(key);
                String id = runtime.create(spec.withLabel(HearthLabels.SPEC_HASH, hash));
                runtime.start(id);
                LOG.info("app={} container={} event=created id={}", app, name, id.substring(0, 12));
                keep = runtime.container(id).orElseThrow();
            } else if (!keep.running() && (firstPass || stoppedForStorage.remove(key))) {
                runtime.start(keep.id());
                LOG.info("app={} container={} event=resumed id={}", app, name, keep.id().substring(0, 12));
                keep = runtime.container(keep.id()).orElse(keep);
            } else if (!keep.running()) {
                if (backoff.mayRestart(key, now)) {
                    runtime.start(keep.id());
                    backoff.restarted(key, now);
                    LOG.info("app={} container={} event=restarted id={} exit={} restarts={}", app, name,
                            keep.id().substring(0, 12), keep.exitCode().map(String::valueOf).orElse("?"), backoff.total(key));
                    keep = runtime.container(keep.id()).orElse(keep);
                }
            }
        } catch (RuntimeException e) {
            problem = Optional.of(e.getMessage());
            LOG.warn("app={} container={} event=start-failed error={}", app, name, e.getMessage());
        }
        if (keep == null) {
            return new Applied(new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, HealthTracker.STOPPED,
                    backoff.total(key), problem, Optional.empty()), Optional.empty());
        }
        liveContainers.add(keep.id());
        String verdict = health.check(keep, decl, now);
        if (backoff.crashLooping(key, now) && !verdict.equals(HealthTracker.HEALTHY)) {
            verdict = "crash-looping";
        }
        if (verdict.equals(HealthTracker.UNHEALTHY) && problem.isEmpty()) {
            problem = health.reason(keep);
        }
        String ingress = keep.addresses().get(ingressNetwork);
        for (AppManifest.Port p : decl.ports()) {
            String listenerKey = key + "/" + p.name();
            if (keep.running() && ingress != null) {
                targets.put(listenerKey, new InetSocketAddress(ingress, p.port()));
            } else {
                targets.remove(listenerKey);
            }
        }
        return new Applied(new SupervisorStatus.Container(name, keep.id(), decl.image(), lifecycle, keep.running(), verdict,
                backoff.total(key), problem, Optional.empty()), Optional.of(keep));
    }

    /** A volume's name on the storage backend (and in the key vault). */
    public static String volumeName(String app, String volume) {
        return app + "-" + volume;
    }

    /** The container stays stopped (not removed: after unlock the same one resumes). */
    private Applied stopForStorage(String key, String name, AppManifest.Container decl, String lifecycle,
                                   List<ContainerInfo> existing, String reason) {
        for (ContainerInfo info : existing) {
            if (info.running()) {
                LOG.info("container={} event=stopped reason=storage-locked id={}", key, info.id().substring(0, 12));
                runtime.stop(info.id(), Duration.ofSeconds(10));
            }
            stoppedForStorage.add(key);
        }
        String id = existing.isEmpty() ? "" : existing.get(0).id();
        return new Applied(new SupervisorStatus.Container(name, id, decl.image(), lifecycle, false, LOCKED, 0,
                Optional.of(reason), Optional.empty()), Optional.empty());
    }

    private SupervisorStatus.Storage storageStatus() {
        return volumes.map(v -> new SupervisorStatus.Storage(v.backend().name(), v.backend().encrypted(), v.locked(),
                        v.passphraseSet()))
                .orElse(new SupervisorStatus.Storage("none", false, true, false));
    }

    public boolean passphraseSet() {
        return storage().passphraseSet();
    }

    /** Keeps the master key from the owner's passphrase and runs what waited for it, at once. */
    public void unlock(char[] passphrase) throws Exception {
        long start = System.nanoTime();
        storage().unlock(passphrase);
        long unlocked = System.nanoTime();
        passAndRecordStatus();
        LOG.info("event=unlocked backend={} key_ms={} open_and_start_ms={}", storage().backend().name(),
                (unlocked - start) / 1_000_000, (System.nanoTime() - unlocked) / 1_000_000);
    }

    /** Forgets the master key, stops every container with a volume and closes the volumes. */
    public synchronized void lock() throws IOException {
        storage().lock();
        List<String> failed = new ArrayList<>();
        for (InstalledApps.Installed installed : apps.list()) {
            if (installed.manifest().isEmpty()) {
                continue;
            }
            AppManifest m = installed.manifest().get();
            stopContainersWithVolumes(m);
            for (AppManifest.Container c : m.containers().values()) {
                for (AppManifest.Volume v : c.volumes()) {
                    String volume = volumeName(m.app(), v.name());
                    try {
                        storage().close(volume);
                    } catch (IOException e) {
                        failed.add(volume + ": " + e.getMessage());
                    }
                }
            }
        }
        LOG.info("event=locked");
        passAndRecordStatus();
        if (!failed.isEmpty()) {
            throw new IOException("locked, but these volumes did not close: " + String.join("; ", failed));
        }
    }

    private void stopContainersWithVolumes(AppManifest m) {
        runtime.containers(AppTeardown.labelsOf(home.instanceId(), m.app())).stream()
                .filter(c -> m.containers().containsKey(c.labels().getOrDefault(HearthLabels.ROLE, "")))
                .filter(c -> !m.containers().get(c.labels().get(HearthLabels.ROLE)).volumes().isEmpty())
                .forEach(c -> {
                    runtime.stop(c.id(), Duration.ofSeconds(10));
                    stoppedForStorage.add(m.app() + "/" + c.labels().get(HearthLabels.ROLE));
                });
    }

    public void changePassphrase(char[] current, char[] replacement) throws Exception {
        storage().changePassphrase(current, replacement);
        LOG.info("event=passphrase-changed");
    }

    /** Grows a volume: its app's containers with volumes stop, the volume is closed, grown, and they start again. */
    public synchronized void growVolume(String app, String volume, long sizeBytes) throws IOException {
        AppManifest m = apps.list().stream().filter(i -> i.app().equals(app)).findFirst()
                .flatMap(InstalledApps.Installed::manifest)
                .orElseThrow(() -> new IOException("app " + app + " is not installed"));
        if (m.containers().values().stream().flatMap(c -> c.volumes().stream()).noneMatch(v -> v.name().equals(volume))) {
            throw new IOException("app " + app + " declares no volume " + volume);
        }
        if (storage().locked()) {
            throw new AppVolumes.LockedException();
        }
        stopContainersWithVolumes(m);
        String name = volumeName(app, volume);
        storage().close(name);
        storage().grow(name, sizeBytes);
        LOG.info("app={} volume={} event=grown bytes={}", app, name, sizeBytes);
        passAndRecordStatus();
    }

    private AppVolumes storage() {
        return volumes.orElseThrow(() -> new IllegalStateException(
                "no encrypted storage on this machine (see hearth doctor)"));
    }

    private ContainerSpec spec(AppManifest m, String name, AppManifest.Container decl, NetworkPlan plan,
                               Map<String, String> networkIds, Map<String, Path> dataFolders) {
        ContainerSpec spec = ContainerSpec.of(decl.image())
                .withCommand(decl.command())
                .withEnv(decl.environment())
                .withLimits(decl.memoryBytes(), decl.pids())
                .withLabels(Map.of(HearthLabels.INSTANCE, home.instanceId(), HearthLabels.APP, m.app(), HearthLabels.ROLE, name,
                        HearthLabels.LIFECYCLE, decl.lifecycle().name().toLowerCase().replace('_', '-')));
        for (NetworkPlan.Attachment a : plan.attachmentsOf(name)) {
            spec = spec.withNetwork(a.network(), a.aliases().toArray(String[]::new));
        }
        for (Map.Entry<String, Path> folder : dataFolders.entrySet()) {
            spec = spec.withVolume(folder.getValue().toString(), folder.getKey());
        }
        // Connections through the edge listener come from the ingress gateway: name it in /etc/hosts, so
        // a server's reverse lookup of its client is answered at once instead of timing out.
        Optional<String> ingressGateway = gatewayOf(networkIds.get(names.ingressNetwork(m.app(), name)));
        if (ingressGateway.isPresent()) {
            spec = spec.withHost("edge-listener", ingressGateway.get());
        }
        // A per-message peer's name leads to the supervisor's hand-off listener on this edge's gateway.
        for (String to : decl.edges().stream().map(AppManifest.Edge::to).distinct().toList()) {
            if (m.containers().get(to).ephemeral()) {
                Optional<String> gateway = gatewayOf(networkIds.get(names.edgeNetwork(m.app(), name, to)));
                if (gateway.isPresent()) {
                    spec = spec.withHost(to, gateway.get());
                }
            }
        }
        return spec;
    }

    /**
     * An ephemeral role: no container of its own, but a warm pool whose containers each serve one
     * connection. The pool follows the spec (a changed image replaces the warm ones) and is swept
     * against the engine every pass.
     */
    private Applied applyPool(AppManifest m, String name, AppManifest.Container decl, NetworkPlan plan,
                              Map<String, String> networkIds, List<ContainerInfo> existing) {
        String key = m.app() + "/" + name;
        String lifecycle = decl.lifecycle().name().toLowerCase().replace('_', '-');
        Optional<String> imageId = runtime.imageId(decl.image());
        AppManifest.Pool declared = decl.poolOrDefault();
        PoolSettings settings = new PoolSettings(declared.warmOrDefault(), declared.ceilingOrDefault(),
                declared.waitOrDefault(), decl.health().map(AppManifest.Health::startPeriodOrDefault)
                .orElse(Duration.ofSeconds(60)));
        WarmPool pool = pools.get(key);
        if (pool != null && !pool.settings().equals(settings)) {
            // Resized in place: a new pool would not know the old one's containers and destroy them mid-connection.
            pool.useSettings(settings);
        }
        if (imageId.isEmpty()) {
            return new Applied(new SupervisorStatus.Container(name, "", decl.image(), lifecycle, false, HealthTracker.STOPPED, 0,
                    Optional.of(decl.image() + " is not built on this machine (run: hearth images build)"),
                    Optional.ofNullable(pool).map(WarmPool::status)), Optional.empty());
        }
        if (pool == null) {
            // Reached on its ingress network (per-connection) or on a client's edge network (per-message).
            String network = plan.attachmentsOf(name).stream().findFirst().map(NetworkPlan.Attachment::network)
                    .orElseThrow(() -> new IllegalStateException(key + " has no network: nothing declares an edge to it"));
            AppManifest.Port port = decl.ports().stream().filter(p -> p.exposure() != AppManifest.Exposure.PRIVATE)
                    .findFirst().orElseThrow();
            boolean greets = port.protocol().filter(pr -> pr == AppManifest.Protocol.SMTP).isPresent();
            pool = new WarmPool(key, settings, runtime, network, port.port(), greets, poolWork);
            pools.put(key, pool);
            LOG.info("app={} container={} event=pool-created warm={} ceiling={} wait_ms={}", m.app(), name,
                    settings.warm(), settings.ceiling(), settings.maxWait().toMillis());
        }
        ContainerSpec spec = spec(m, name, decl, plan, networkIds, Map.of());
        pool.useSpec(spec, specHash(spec, imageId.get()));
        pool.sweep(existing);
        var status = pool.status();
        String health = status.problem().isPresent() ? "failing"
                : status.warm() > 0 || status.inUse() > 0 || status.warmTarget() == 0 ? HealthTracker.HEALTHY : "starting";
        return new Applied(new SupervisorStatus.Container(name, "", decl.image(), lifecycle, status.warm() + status.inUse() > 0,
                health, 0, status.problem(), Optional.of(status)), Optional.empty());
    }

    /** Everything that, if changed, needs a new container: the spec itself and the image it runs. */
    private static String specHash(ContainerSpec spec, String imageId) {
        try {
            byte[] json = SPEC_JSON.writeValueAsBytes(spec);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(json);
            sha.update(imageId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash a container spec", e);
        }
    }

    private static String appState(List<SupervisorStatus.Container> containers) {
        if (containers.stream().anyMatch(c -> c.health().equals(LOCKED))) {
            return LOCKED;
        }
        // An unhealthy container's problem is its check's answer: that app is degraded, not failing.
        if (containers.stream().anyMatch(c -> (c.problem().isPresent() && !c.health().equals(HealthTracker.UNHEALTHY))
                || c.health().equals("crash-looping"))) {
            return "failing";
        }
        if (containers.stream().allMatch(c -> c.health().equals(HealthTracker.HEALTHY))) {
            return "healthy";
        }
        if (containers.stream().anyMatch(c -> c.health().equals(HealthTracker.UNHEALTHY) || !c.running())) {
            return "degraded";
        }
        return "starting";
    }

    /** Containers and networks of apps no longer installed; their volumes stay (removal decides about data). */
    private void removeOrphans(List<InstalledApps.Installed> installed, List<ContainerInfo> containers,
                               List<ContainerRuntime.NetworkInfo> networks) {
        Set<String> known = new HashSet<>();
        installed.forEach(i -> known.add(i.app()));
        Set<String> orphans = new HashSet<>();
        containers.forEach(c -> {
            String app = c.labels().get(HearthLabels.APP);
            if (app != null && !known.contains(app)) {
                orphans.add(app);
            }
        });
        networks.forEach(n -> {
            String app = n.labels().get(HearthLabels.APP);
            if (app != null && !known.contains(app)) {
                orphans.add(app);
            }
        });
        if (firewallRules.keySet().removeIf(app -> !known.contains(app))) {
            applyAllFirewallRules();
        }
        for (String app : orphans) {
            LOG.info("app={} event=orphan-removed", app);
            AppTeardown.remove(runtime, home.instanceId(), app);
        }
    }

    private void closeListenersOn(InetAddress address) {
        String prefix = address.getHostAddress() + ":";
        listenerShapes.entrySet().removeIf(e -> {
            if (!e.getValue().startsWith(prefix)) {
                return false;
            }
            listeners.remove(e.getKey()).close();
            targets.remove(e.getKey());
            return true;
        });
    }

    /** Opens missing listeners and closes unwanted ones; returns a problem per listener that could not open. */
    private Map<String, Optional<String>> syncListeners(Map<String, DesiredListener> desired, Set<String> leaveAsIs) {
        Map<String, Optional<String>> problems = new HashMap<>();
        for (var it = listeners.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (leaveAsIs.contains(entry.getKey().substring(0, entry.getKey().indexOf('/')))) {
                continue;
            }
            DesiredListener want = desired.get(entry.getKey());
            boolean keep = want != null && want.bind().isPresent() && want.shape().equals(listenerShapes.get(entry.getKey()));
            if (!keep) {
                entry.getValue().close();
                it.remove();
                listenerShapes.remove(entry.getKey());
                targets.remove(entry.getKey());
            }
        }
        for (DesiredListener want : desired.values()) {
            if (want.bind().isEmpty()) {
                // Fail closed: no overlay address means no private listener, never a fallback address.
                problems.put(want.key(), Optional.of("overlay " + overlay.name() + " is down ("
                        + overlayNow.problem().orElse("no address") + "): "
                        + (want.exposure().equals("private") ? "private port closed" : "closed on the overlay")));
                continue;
            }
            if (listeners.containsKey(want.key())) {
                continue;
            }
            EdgeListener listener = new EdgeListener(want.key(), new InetSocketAddress(want.bind().get(), want.listen()),
                    want.source(), want.refusal(), connections);
            try {
                listener.start();
                listeners.put(want.key(), listener);
                listenerShapes.put(want.key(), want.shape());
            } catch (IOException e) {
                problems.put(want.key(), Optional.of("cannot listen on " + want.bind().get().getHostAddress() + ":"
                        + want.listen() + ": " + e.getMessage()));
            }
        }
        return problems;
    }

    /**
     * Closes every listener; with {@code stopContainers}, also stops the apps' containers and then
     * removes the firewall chains (hearth down). Each step runs even if an earlier one failed, except
     * that the chains stay while a container may still run.
     */
    public synchronized void shutdown(boolean stopContainers) {
        running = false;
        try {
            step("close-listeners", () -> {
                listeners.values().forEach(EdgeListener::close);
                listeners.clear();
            });
            step("close-overlay", overlay::close);
            // Warm containers never served anything, but nothing may outlive the pool that vouches for them.
            step("close-pools", () -> {
                pools.values().forEach(WarmPool::close);
                pools.clear();
            });
            if (stopContainers && step("stop-containers", () -> AppTeardown.stopAll(runtime, home.instanceId()))) {
                step("remove-firewall", firewall::remove);
            }
            connections.shutdownNow();
            poolWork.shutdown();
            try {
                poolWork.awaitTermination(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.info("event=supervisor-stopped containers={}", stopContainers ? "stopped" : "left running");
        } finally {
            shutdownDone.countDown();
        }
    }

    /** Runs one shutdown step; a failure is logged and reported, never thrown past the next step. */
    private static boolean step(String name, Runnable work) {
        try {
            work.run();
            return true;
        } catch (RuntimeException e) {
            LOG.warn("event=shutdown-step-failed step={} error={}", name, e.getMessage());
            return false;
        }
    }

    /** Waits until {@link #shutdown} has finished, so the engine connection it uses stays open until then. */
    public void awaitShutdown(Duration limit) throws InterruptedException {
        if (!shutdownDone.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            LOG.warn("event=shutdown-slow waited_s={}", limit.toSeconds());
        }
    }

    @Override
    public void close() {
        shutdown(false);
    }
}
