package org.hearth.core.supervisor;

import org.hearth.core.HearthHome;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.manifest.ManifestException;
import org.hearth.core.manifest.ManifestProblem;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.network.EgressConfig;
import org.hearth.core.overlay.OverlayProvider;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.volume.AppVolumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The reconcile loop and its lifecycle: a {@link ReconcilePass} once a second, and at once when an
 * app is installed or removed or storage changes, with the status written after every pass. Every
 * step is idempotent, so a pass after a crash, a restart or a half-done pass converges the same
 * way. Running containers whose spec is unchanged are adopted, never recreated.
 */
public final class Supervisor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);
    private static final Duration PASS_INTERVAL = Duration.ofSeconds(1);

    private final HearthHome home;
    private final ContainerRuntime runtime;
    private final OverlayProvider overlay;
    private final InetAddress publicAddress;
    private final InstalledApps apps;
    private final AppStorage storage;
    private final AppUpgrades upgrades;
    private final ReconcilePass pass;
    /** Cleared by {@link #stop} and, under the lock every pass holds, by {@link #shutdown}. */
    private volatile boolean running = true;
    private final CountDownLatch shutdownDone = new CountDownLatch(1);

    /**
     * @param egress  what containers that declare egress may reach beyond their ports (appliance.yaml)
     * @param volumes empty when this machine offers no encrypted storage (and plain was not asked for)
     */
    public Supervisor(HearthHome home, ContainerRuntime runtime, OverlayProvider overlay, InetAddress publicAddress,
                      EgressConfig egress, Optional<AppVolumes> volumes) {
        this.home = home;
        this.runtime = runtime;
        this.overlay = overlay;
        this.publicAddress = publicAddress;
        this.apps = new InstalledApps(home.stateDir("apps"));
        this.storage = new AppStorage(volumes, runtime, home.instanceId());
        this.upgrades = new AppUpgrades(home.state().resolve("upgrades"));
        PairingState pairing = new PairingState(home.state().resolve("pairing"));
        this.pass = new ReconcilePass(home.instanceId(), runtime, overlay, publicAddress, egress, apps, storage,
                home.state().resolve("certificates"), () -> {
            try {
                return pairing.domain().orElse(BoxName.UNPAIRED);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the box's name in " + home.state().resolve("pairing"), e);
            }
        });
    }

    public static Path statusFile(HearthHome home) {
        return home.state().resolve("status.json");
    }

    /** Reconciles once a second, and at once when an app is installed or removed, until {@link #stop()}. */
    public void run() {
        LOG.info("event=supervisor-started pid={} overlay={} public={} steps={}", ProcessHandle.current().pid(),
                overlay.name(), publicAddress.getHostAddress(), String.join(",", pass.stepNames()));
        recoverUpgrades();
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
            status = pass.run();
        } catch (RuntimeException e) {
            cause = ReconcilePass.describe(e);
            throw e;
        } finally {
            // Written whatever failed: a status left from an earlier pass would look fresh to hearth status.
            (status != null ? status : pass.failed("the reconcile pass failed: " + cause)).writeTo(statusFile(home));
        }
    }

    /** One pass now, its status written: for a change the next pass must not wait a second for. */
    public void reconcileNow() {
        passAndRecordStatus();
    }

    /** One pass, for tests: what it saw. */
    synchronized SupervisorStatus reconcileOnce() {
        return pass.run();
    }

    public boolean passphraseSet() {
        return storage.passphraseSet();
    }

    /** Whether encrypted storage waits for its passphrase (hearth unlock). */
    public boolean storageLocked() {
        return storage.locked();
    }

    public boolean installed(String app) {
        return manifest(app).isPresent();
    }

    /** The installed app's manifest, if it is installed (and its manifest reads). */
    public Optional<AppManifest> manifest(String app) {
        return installedManifests().stream().filter(m -> m.app().equals(app)).findFirst();
    }

    /** Keeps the master key from the owner's passphrase and runs what waited for it, at once. */
    public void unlock(char[] passphrase) throws Exception {
        long start = System.nanoTime();
        storage.unlock(passphrase);
        long unlocked = System.nanoTime();
        passAndRecordStatus();
        LOG.info("event=unlocked backend={} key_ms={} open_and_start_ms={}", storage.backendName(),
                (unlocked - start) / 1_000_000, (System.nanoTime() - unlocked) / 1_000_000);
    }

    /** Whether {@code passphrase} is the storage's (the owner's password), keeping nothing; throttled as unlocking is. */
    public void checkPassphrase(char[] passphrase) throws Exception {
        storage.verify(passphrase);
    }

    /** The appliance's address on the owner's overlay as the last pass found it; empty while the overlay is down. */
    public Optional<InetAddress> overlayAddress() {
        return pass.overlayAddress();
    }

    /** Forgets the master key, stops every container with a volume and closes the volumes. */
    public synchronized void lock() throws IOException {
        try {
            storage.lock(installedManifests());
        } finally {
            pass.forgetSecrets();
            passAndRecordStatus();
        }
    }

    /**
     * Keeps a secret in the key vault (storage must be unlocked) and hands it at once to the
     * containers that use it.
     */
    public void setSecret(String name, String value) throws Exception {
        checkSecretName(name);
        if (value.isEmpty()) {
            throw new IllegalArgumentException("the secret " + name + " is empty: nothing was read from standard input");
        }
        storage.putSecret(name, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        passAndRecordStatus();
    }

    public boolean removeSecret(String name) throws Exception {
        checkSecretName(name);
        boolean removed = storage.removeSecret(name);
        passAndRecordStatus();
        return removed;
    }

    public List<String> secretNames() throws IOException {
        return storage.secretNames();
    }

    private static void checkSecretName(String name) {
        if (!name.matches("[a-z0-9][a-z0-9-]{0,62}")) {
            throw new IllegalArgumentException("\"" + name + "\" is not a secret's name (lower-case letters, digits and"
                    + " dashes, such as relay-password)");
        }
    }

    public void changePassphrase(char[] current, char[] replacement) throws Exception {
        storage.changePassphrase(current, replacement);
        LOG.info("event=passphrase-changed");
    }

    /** Grows a volume: its app's containers with volumes stop, the volume is closed, grown, and they start again. */
    public synchronized void growVolume(String app, String volume, long sizeBytes) throws IOException {
        AppManifest m = installedManifests().stream().filter(a -> a.app().equals(app)).findFirst()
                .orElseThrow(() -> new IOException("app " + app + " is not installed"));
        storage.grow(m, volume, sizeBytes);
        passAndRecordStatus();
    }

    /**
     * Installs (or updates) an app after checking its manifest against this machine: its images are
     * built, its host ports free. A pass applies it before this returns, so a container whose
     * settings changed is already replaced and the status shows its successor starting: a caller
     * waiting for a healthy app never mistakes the old containers' health for the new settings'.
     *
     * @throws ManifestException naming each problem's file, line and field
     */
    public synchronized String install(String file, String text) {
        AppManifest manifest = ManifestReader.read(file, text);
        refuseDuringUpgrade(manifest.app());
        List<ManifestProblem> problems = InstallChecks.check(file, text, manifest, runtime, apps.list());
        if (!problems.isEmpty()) {
            throw new ManifestException(problems);
        }
        apps.install(manifest.app(), text);
        LOG.info("app={} event=installed version={}", manifest.app(), manifest.version());
        try {
            passAndRecordStatus();
        } catch (RuntimeException e) {
            // Recorded all the same: the status says what failed, and the next pass tries again.
            LOG.warn("app={} event=install-pass-failed error=\"{}\"", manifest.app(), e.getMessage(), e);
        }
        return "installed " + manifest.app() + " " + manifest.version();
    }

    /**
     * Upgrades an installed app to the manifest {@code toText}: its containers with volumes stopped,
     * its volumes closed and copied aside (still encrypted), the new manifest installed, its migration
     * run if it declares one, and then up to {@code deadline} for the new version to be healthy (its
     * stateless containers start beside the old ones: {@link RunServices}). When the migration fails
     * or the new version is not healthy (an image that does not start, a health check never green, a
     * crash loop), the old manifest and the copies come back and the old version starts on its data
     * as it was. Each step is recorded first, so a supervisor killed on the way undoes it at its next
     * start ({@link #recoverUpgrades}).
     *
     * @return what the owner is told
     * @throws RolledBackException when the new version failed and the old one is back
     */
    public String upgrade(String file, String toText, Duration deadline)
            throws IOException, InterruptedException, RolledBackException {
        AppManifest to = ManifestReader.read(file, toText);
        List<ManifestProblem> problems = InstallChecks.check(file, toText, to, runtime, apps.list());
        if (!problems.isEmpty()) {
            throw new ManifestException(problems);
        }
        AppManifest from;
        AppUpgrades.Upgrade upgrade;
        synchronized (this) {
            refuseDuringUpgrade(to.app());
            InstalledApps.Installed current = apps.list().stream().filter(i -> i.app().equals(to.app())).findFirst()
                    .filter(i -> i.manifest().isPresent())
                    .orElseThrow(() -> new IllegalArgumentException(to.app() + " is not installed (hearth app install " + to.app() + ")"));
            from = current.manifest().get();
            upgrade = new AppUpgrades.Upgrade(to.app(), Files.readString(current.file()), toText, to.version(), AppUpgrades.Phase.SNAPSHOT);
            LOG.info("app={} event=upgrade-requested from={} to={}", to.app(), from.version(), to.version());
            upgrades.record(upgrade);
            // Held from here until the new version may start: no pass reopens the volumes under the copy.
            storage.hold(to.app(), "upgrading to " + to.version() + ": its data is being copied aside");
            try {
                storage.closeForSnapshot(from);
            } catch (IOException | RuntimeException e) {
                abandon(from);
                throw e;
            }
        }
        try {
            storage.copyAside(from);
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                abandon(from);
            }
            throw e;
        }
        synchronized (this) {
            upgrades.record(upgrade.at(AppUpgrades.Phase.STARTED));
            if (to.migrate().isPresent()) {
                storage.hold(to.app(), "upgrading to " + to.version() + ": its data is being migrated");
            }
            apps.install(to.app(), toText);
            LOG.info("app={} event=upgrade-started from={} to={}", to.app(), from.version(), to.version());
        }
        // From here on the old data is only in the copies: whatever fails puts it back.
        Optional<String> failed;
        try {
            failed = to.migrate().isPresent() ? migrate(from, to) : Optional.empty();
            if (failed.isEmpty()) {
                storage.release(to.app());
                passAndRecordStatus();
                failed = awaitHealthy(to.app(), to.version(), deadline);
            }
        } catch (IOException | RuntimeException e) {
            failed = Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        if (failed.isPresent()) {
            // A failed migration still holds the volumes: no pass starts the new version on half-migrated data.
            return rolledBack(upgrade, from, to, failed.get(), deadline);
        }
        synchronized (this) {
            upgrades.finished(to.app());
        }
        // The upgrade stands once its record is gone; copies that will not go are only wasted space.
        try {
            storage.dropSnapshots(from);
        } catch (IOException | RuntimeException e) {
            LOG.warn("app={} event=snapshot-drop-failed error=\"{}\"", to.app(), e.getMessage());
        }
        LOG.info("app={} event=upgraded from={} to={}", to.app(), from.version(), to.version());
        return "upgraded " + to.app() + " from " + from.version() + " to " + to.version();
    }

    /** An upgrade that never handed the data over: the copies go, and the old version resumes on its data. */
    private void abandon(AppManifest from) throws IOException {
        try {
            storage.dropSnapshots(from);
        } finally {
            upgrades.finished(from.app());
            storage.release(from.app());
        }
    }

    /** One change to an app at a time: an install, upgrade or removal waits for its upgrade to end. */
    private void refuseDuringUpgrade(String app) {
        if (upgrades.of(app).isPresent()) {
            throw new IllegalStateException(app + " is being upgraded; try again when it has finished (hearth app list)");
        }
    }

    /** Undoes a failed upgrade, waits for the old version, and says what happened. */
    private String rolledBack(AppUpgrades.Upgrade upgrade, AppManifest from, AppManifest to, String why, Duration deadline)
            throws IOException, InterruptedException, RolledBackException {
        LOG.warn("app={} event=upgrade-failed to={} reason=\"{}\"", to.app(), to.version(), why);
        rollBack(upgrade.at(AppUpgrades.Phase.ROLLING_BACK), from, to);
        passAndRecordStatus();
        Optional<String> back = awaitHealthy(from.app(), from.version(), deadline);
        throw new RolledBackException("the upgrade of " + to.app() + " to " + to.version() + " failed: " + why + "; "
                + from.app() + " " + from.version() + " is back, with its data as it was before the upgrade"
                + back.map(b -> ", but is not healthy yet: " + b).orElse(""));
    }

    /**
     * Runs the new version's migration on the app's volumes (the old data is already copied aside);
     * empty when it exited 0, else why not. Its output goes to the supervisor's log.
     */
    private Optional<String> migrate(AppManifest from, AppManifest to) throws IOException {
        AppManifest.Migrate migrate = to.migrate().orElseThrow();
        String what = "its migration (" + String.join(" ", migrate.command()) + ")";
        Map<String, Path> folders;
        synchronized (this) {
            folders = storage.open(to.app(), to.containers().get(migrate.container()));
        }
        LOG.info("app={} event=migration-started from={} to={}", to.app(), from.version(), to.version());
        try {
            ContainerRuntime.Run run = runtime.run(pass.specs.migration(to, from.version(), folders), migrate.timeoutOrDefault());
            LOG.info("app={} event=migration-finished exit={} stdout=\"{}\" stderr=\"{}\"", to.app(), run.exitCode(),
                    run.output().stdout().strip(), run.output().stderr().strip());
            if (run.exitCode() == 0) {
                return Optional.empty();
            }
            String said = run.output().stderr().strip();
            said = said.isEmpty() ? "" : " (" + said.substring(said.lastIndexOf('\n') + 1) + ")";
            return Optional.of(what + " exited " + run.exitCode() + said);
        } catch (RuntimeException e) {
            removeMigrations(to.app());
            // docker-java's wait ends in a DockerClientException when the time is up.
            boolean timedOut = e instanceof com.github.dockerjava.api.exception.DockerClientException
                    && String.valueOf(e.getMessage()).contains("timeout");
            return Optional.of(what + (timedOut ? " did not finish within " + migrate.timeoutOrDefault().toSeconds() + " s"
                    : " could not run: " + e.getMessage()));
        }
    }

    /** A migration's one-off container a failure or a killed supervisor left behind. */
    private void removeMigrations(String app) {
        runtime.containers(Map.of(HearthLabels.INSTANCE, home.instanceId(), HearthLabels.MIGRATION, app))
                .forEach(c -> runtime.remove(c.id()));
    }

    /** An upgrade that failed and was undone: the message says why, and that the old version is back. */
    public static final class RolledBackException extends Exception {
        RolledBackException(String message) {
            super(message);
        }
    }

    /** The old manifest and the volumes' copies back; the next pass starts the old version. */
    private synchronized void rollBack(AppUpgrades.Upgrade upgrade, AppManifest from, AppManifest to) throws IOException {
        upgrades.record(upgrade);
        // Held until the copies are back: if putting them back fails, nothing starts on the new data.
        storage.hold(from.app(), "rolling back the upgrade to " + to.version());
        removeMigrations(from.app());
        storage.stopAndClose(to);
        storage.restore(from);
        apps.install(from.app(), upgrade.fromText());
        upgrades.finished(from.app());
        storage.release(from.app());
        LOG.info("app={} event=upgrade-rolled-back to={}", from.app(), from.version());
    }

    /**
     * An upgrade a killed supervisor left half done is undone before the first pass: before its
     * snapshot was whole, the old version never stopped using its data (partial copies go); after, the
     * old manifest and the copies come back.
     */
    synchronized void recoverUpgrades() {
        for (AppUpgrades.Upgrade u : upgrades.unfinished()) {
            try {
                AppManifest from = ManifestReader.read("the manifest before the upgrade of " + u.app(), u.fromText());
                if (u.phase() == AppUpgrades.Phase.SNAPSHOT) {
                    storage.dropSnapshots(from);
                    upgrades.finished(u.app());
                } else {
                    rollBack(u.at(AppUpgrades.Phase.ROLLING_BACK), from, ManifestReader.read("the upgrade of " + u.app(), u.toText()));
                }
                LOG.warn("app={} event=upgrade-undone-after-restart to={} phase={}", u.app(), u.toVersion(), u.phase());
            } catch (IOException | RuntimeException e) {
                LOG.error("app={} event=upgrade-recovery-failed error=\"{}\"", u.app(), e.getMessage(), e);
            }
        }
    }

    /**
     * Waits for the app at {@code version} to be healthy; empty when it is, else why not: a failure
     * the status shows for 5 s on end (a crash loop, a container that cannot start), or the deadline.
     */
    private Optional<String> awaitHealthy(String app, String version, Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        String last = "not seen yet";
        long failingSince = 0;
        while (System.nanoTime() < end) {
            Optional<SupervisorStatus.App> a = SupervisorStatus.readFrom(statusFile(home)).flatMap(s -> s.app(app))
                    .filter(x -> x.version().equals(version));
            if (a.isPresent()) {
                SupervisorStatus.AppState state = a.get().state();
                if (state == SupervisorStatus.AppState.HEALTHY) {
                    return Optional.empty();
                }
                last = state.label() + a.get().problem().map(p -> " (" + p + ")").orElse("");
                boolean failing = state == SupervisorStatus.AppState.FAILING || state == SupervisorStatus.AppState.LOCKED;
                failingSince = failing ? (failingSince == 0 ? System.nanoTime() : failingSince) : 0;
                if (failing && System.nanoTime() - failingSince > Duration.ofSeconds(5).toNanos()) {
                    return Optional.of(last);
                }
            }
            Thread.sleep(500);
        }
        return Optional.of("not healthy within " + deadline.toSeconds() + " s: " + last);
    }

    /**
     * Removes an app: a pass takes down its listeners, pool, firewall rules, containers and
     * networks; then its volumes close, or with {@code keepData} false are destroyed with their keys.
     */
    public synchronized String remove(String app, boolean keepData) throws IOException {
        refuseDuringUpgrade(app);
        Optional<AppManifest> manifest = apps.list().stream().filter(i -> i.app().equals(app)).findFirst()
                .flatMap(InstalledApps.Installed::manifest);
        boolean wasInstalled = apps.remove(app);
        passAndRecordStatus();
        // Again, and throwing: no volume is released while a container of the app might still use it.
        AppTeardown.remove(runtime, home.instanceId(), app);
        if (manifest.isPresent()) {
            AppTeardown.releaseVolumes(home, manifest.get(), !keepData);
        }
        LOG.info("app={} event=removed data={}", app, keepData ? "kept" : "destroyed");
        return (wasInstalled ? "removed " : "was not installed; cleaned up ") + app + (keepData ? " (data kept)" : "");
    }

    private List<AppManifest> installedManifests() {
        return apps.list().stream().flatMap(i -> i.manifest().stream()).toList();
    }

    /**
     * Closes every listener; with {@code stopContainers}, also stops the apps' containers and then
     * removes the firewall chains (hearth down).
     */
    public synchronized void shutdown(boolean stopContainers) {
        running = false;
        try {
            pass.shutdown(stopContainers);
            LOG.info("event=supervisor-stopped containers={}", stopContainers ? "stopped" : "left running");
        } finally {
            shutdownDone.countDown();
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
