package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import com.github.dockerjava.api.DockerClient;
import org.hearth.core.HearthHome;
import org.hearth.core.catalog.CatalogInstaller;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.KeyVault;
import org.hearth.core.certificates.CertificateAgent;
import org.hearth.core.pairing.AddressAgent;
import org.hearth.core.pairing.BoxIdentity;
import org.hearth.core.pairing.PairingAgent;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.pairing.RegistryClient;
import org.hearth.core.supervisor.AppTeardown;
import org.hearth.core.supervisor.InstalledApps;
import org.hearth.core.supervisor.PairingSetup;
import org.hearth.core.supervisor.OverlayDevices;
import org.hearth.core.ownerapp.OwnerAppServer;
import org.hearth.core.supervisor.ControlSocket;
import org.hearth.core.overlay.LoopbackOverlay;
import org.hearth.core.overlay.OverlayConfig;
import org.hearth.core.overlay.OverlayProvider;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.supervisor.Supervisor;
import org.hearth.core.supervisor.SupervisorProcess;
import org.hearth.core.supervisor.SupervisorStatus;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start the supervisor: it runs the installed apps and keeps them as declared.")
final class UpCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    @Option(names = "--foreground", description = "Run in this terminal instead of in the background.")
    boolean foreground;

    @Option(names = "--public-address", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Where public ports listen (default: ${DEFAULT-VALUE}).")
    String publicAddress;

    @Option(names = "--overlay", paramLabel = "PROVIDER",
            description = "The owner's private network, instead of overlay.provider in the state folder's "
                    + ApplianceConfig.FILE + ": wireguard, zerotier, or loopback (development only; private ports on "
                    + LoopbackOverlay.ADDRESS + ", the default).")
    Optional<String> overlay;

    @Option(names = "--insecure-plain-storage",
            description = "Development only: keep app volumes in plain, unencrypted folders (shown in hearth status).")
    boolean insecurePlainStorage;

    @Override
    public Integer call() throws Exception {
        HearthHome home = root.home();
        InetAddress publicSide = publicAddress(publicAddress);
        if (foreground) {
            OverlayProvider provider = overlayConfig(home, overlay).open(home.state(), publicSide);
            Optional<AppVolumes> volumes = AppVolumes.choose(AppTeardown.volumesDir(home), ImageRecipe.UID, ImageRecipe.GID,
                    insecurePlainStorage).map(b -> new AppVolumes(b, home.state(), KeyVault.Cost.APPLIANCE));
            try (Engine engine = Engine.connect()) {
                var version = engine.version();
                LoggerFactory.getLogger(UpCommand.class).info("event=engine kind={} version={} host={}", engine.kind().name().toLowerCase(java.util.Locale.ROOT),
                        version.getVersion(), Engine.defaultHost());
                DockerRuntime runtime = new DockerRuntime(engine);
                Supervisor supervisor = new Supervisor(home, runtime, provider, publicSide,
                        ApplianceConfig.read(home).egress(), volumes);
                try (ControlSocket control = ControlSocket.open(home, supervisor, runtime, engine.client(), publicSide)) {
                    List<Runnable> stopAgents = new ArrayList<>(startRegistryAgents(home, supervisor, runtime, publicSide));
                    stopAgents.add(startOwnerApp(home, supervisor, runtime, engine.client(), publicSide));
                    try {
                        SupervisorProcess.runForeground(home, supervisor);
                    } finally {
                        stopAgents.forEach(Runnable::run);
                    }
                }
            }
            return 0;
        }
        long pid = ensureRunning(home, publicAddress, overlay, insecurePlainStorage);
        System.out.println("supervisor running (pid " + pid + "), log " + home.state().resolve("logs/supervisor.log"));
        return 0;
    }

    /**
     * When appliance.yaml names a registry: the pairing agent, which waits there for the owner's phone
     * while the box is unpaired (its code made now if this is the first start); the certificate
     * agent, which keeps a paired box's certificates for the names its apps ask for (appliance.yaml's
     * acme: the CA); the address agent, which keeps its address current at its public names.
     * Returns how to stop them.
     */
    private static List<Runnable> startRegistryAgents(HearthHome home, Supervisor supervisor, DockerRuntime runtime,
                                                      InetAddress publicSide) throws IOException {
        ApplianceConfig config = ApplianceConfig.read(home);
        Optional<URI> url = config.registry().url();
        if (url.isEmpty()) {
            return List.of();
        }
        PairingState state = new PairingState(home.stateDir("pairing"));
        state.code();
        RegistryClient registry = new RegistryClient(url.get());
        BoxIdentity identity;
        try {
            identity = BoxIdentity.loadOrCreate(home.stateDir("registry"), state.domain());
        } catch (BoxIdentity.MissingKey e) {
            // Mail goes on; what needs the registry waits for the key (hearth status says so too).
            LoggerFactory.getLogger(UpCommand.class).error("event=box-key-missing error=\"{}\"", e.getMessage());
            return List.of();
        }
        PairingAgent pairing = new PairingAgent(registry, state, identity, PairingSetup.of(home, supervisor, runtime, publicSide));
        InstalledApps apps = new InstalledApps(home.stateDir("apps"));
        CertificateAgent certificates = new CertificateAgent(config.acme(), home.stateDir("certificates"), state, registry,
                identity, domain -> CertificateAgent.wanted(home, domain));
        AddressAgent addresses = new AddressAgent(registry, state, identity, apps::publicHosts);
        for (Map.Entry<String, Runnable> agent : Map.<String, Runnable>of("pairing", pairing, "certificates", certificates,
                "addresses", addresses).entrySet()) {
            Thread thread = new Thread(agent.getValue(), agent.getKey());
            thread.setDaemon(true);
            thread.start();
        }
        return List.of(pairing::stop, certificates::stop, addresses::stop);
    }

    /** The owner app on the overlay (appliance.yaml's owner-app.port; none with 0); returns how to stop it. */
    private static Runnable startOwnerApp(HearthHome home, Supervisor supervisor, DockerRuntime runtime, DockerClient docker,
                                          InetAddress publicSide) {
        int port = ApplianceConfig.read(home).ownerApp().port();
        if (port == 0) {
            return () -> { };
        }
        OwnerAppServer server = new OwnerAppServer(home, supervisor, new OverlayDevices(home, publicSide),
                PairingSetup.of(home, supervisor, runtime, publicSide),
                new CatalogInstaller(home, docker, Optional.ofNullable(UpCommand.class.getPackage().getImplementationVersion())), port);
        Thread thread = new Thread(server, "owner-app-listener");
        thread.setDaemon(true);
        thread.start();
        return server::stop;
    }

    /**
     * The supervisor's JVM, sized for a 1 GiB board rather than left to ergonomics (a quarter of the
     * machine's memory: 322 MiB PSS on the demo here; ≈ 108 MiB with these). Its live set after a
     * full GC on the demo is ≈ 20 MiB; unlocking needs 64 MiB more for a moment (the key vault's
     * Argon2id), which G1 gives back at once (KeyVault.derive collects; at most 30 % of the heap is
     * kept free, and a periodic collection trims it when idle); the edge listeners add 64 KiB per
     * open connection. C1 only: less code cache, for a process that mostly waits. The owner app's HTTPS
     * server closes a connection that has not sent its request within 30 s (the JDK's default: never).
     */
    static final List<String> SUPERVISOR_JVM = List.of("-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=30000", "-Xms8m",
            "-Xmx128m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-XX:MaxMetaspaceSize=80m",
            "-XX:ReservedCodeCacheSize=32m", "-XX:TieredStopAtLevel=1", "-Xss512k", "-XX:-UsePerfData",
            "-XX:+ExitOnOutOfMemoryError", "-Dsun.net.httpserver.maxReqTime=30");

    /** Starts the supervisor in the background unless one runs for this state folder; returns its pid. */
    static long ensureRunning(HearthHome home, String publicAddress, Optional<String> overlay, boolean insecurePlainStorage)
            throws Exception {
        overlayConfig(home, overlay);
        var already = SupervisorProcess.running(home);
        if (already.isPresent()) {
            return already.get().pid();
        }
        Path log = home.stateDir("logs").resolve("supervisor.log");
        List<String> cmd = new ArrayList<>(List.of("setsid", ProcessHandle.current().info().command().orElse("java")));
        cmd.addAll(SUPERVISOR_JVM);
        cmd.addAll(List.of("-Dhearth.home=" + home.root(), "-cp", System.getProperty("java.class.path"),
                HearthCommand.class.getName(), "--state-dir", home.state().toString(),
                "up", "--foreground", "--public-address", publicAddress));
        overlay.ifPresent(o -> cmd.addAll(List.of("--overlay", o)));
        if (insecurePlainStorage) {
            cmd.add("--insecure-plain-storage");
        }
        // Not SystemTool: this is the supervisor itself, meant to outlive this command.
        ProcessBuilder launch = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // glibc's default of 8 malloc arenas per core grows native memory with the thread count.
        launch.environment().put("MALLOC_ARENA_MAX", "2");
        Process child = launch.start();
        Instant launched = Instant.now();
        Instant deadline = launched.plus(Duration.ofSeconds(60));
        Path status = Supervisor.statusFile(home);
        while (Instant.now().isBefore(deadline)) {
            if (!child.isAlive()) {
                throw new IllegalStateException("the supervisor exited at start; see " + log);
            }
            var supervisor = SupervisorProcess.running(home);
            if (supervisor.isPresent() && Files.isRegularFile(status) && SupervisorStatus.readFrom(status)
                    .filter(s -> s.pid() == supervisor.get().pid() && Instant.parse(s.updatedAt()).isAfter(launched))
                    .isPresent()) {
                return supervisor.get().pid();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the supervisor did not report within 60 s; see " + log);
    }

    /** The appliance config's overlay, with {@code --overlay} (when given) choosing the provider. */
    static OverlayConfig overlayConfig(HearthHome home, Optional<String> provider) {
        OverlayConfig config = ApplianceConfig.read(home).overlay();
        try {
            return provider.map(config::withProvider).orElse(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--overlay: " + e.getMessage(), e);
        }
    }

    /** One address: a wildcard would put public ports on the overlay too. */
    static InetAddress publicAddress(String text) throws UnknownHostException {
        InetAddress address = InetAddress.getByName(text);
        if (address.isAnyLocalAddress()) {
            throw new IllegalArgumentException("--public-address " + text
                    + ": must be one address, not a wildcard (a wildcard would put public ports on the overlay too)");
        }
        return address;
    }
}
