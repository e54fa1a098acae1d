package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.core.volume.AppVolumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The apps' encrypted volumes as the supervisor uses them: opening them for a pass, and locking,
 * growing and reading what apps set aside on them. Containers stopped here are remembered, so
 * starting them again after unlock is no crash restart.
 */
final class AppStorage {

    private static final Logger LOG = LoggerFactory.getLogger(AppStorage.class);

    /** Empty when this machine offers no encrypted storage (and plain was not asked for). */
    private final Optional<AppVolumes> volumes;
    private final ContainerRuntime runtime;
    private final String instance;
    /** Apps whose volumes an upgrade holds, with why (see {@link #hold}). */
    private final Map<String, String> held = new ConcurrentHashMap<>();
    /** "app/role" of containers stopped because storage locked or a volume was being grown. */
    private final Set<String> stopped = ConcurrentHashMap.newKeySet();
    /** Counts unlocks, locks and secrets set or removed through the supervisor (the vault file edited by hand is not seen). */
    private final AtomicLong secretsGeneration = new AtomicLong();

    AppStorage(Optional<AppVolumes> volumes, ContainerRuntime runtime, String instance) {
        this.volumes = volumes;
        this.runtime = runtime;
        this.instance = instance;
    }

    /** A volume's name on the storage backend (and in the key vault). */
    static String volumeName(String app, String volume) {
        return app + "-" + volume;
    }

    /** Why roles with volumes cannot run here; empty when this machine has storage for them. */
    Optional<String> missing() {
        return volumes.isPresent() ? Optional.empty() : Optional.of("no encrypted storage on this machine"
                + " (see hearth doctor); for development only: hearth up --insecure-plain-storage");
    }

    /**
     * Opens a role's volumes; returns each container path's host folder.
     *
     * @throws AppVolumes.LockedException while storage is locked
     */
    Map<String, Path> open(String app, AppManifest.Container decl) throws IOException {
        Map<String, Path> folders = new TreeMap<>();
        for (AppManifest.Volume v : decl.volumes()) {
            folders.put(v.path(), storage().open(volumeName(app, v.name()), v.sizeBytes()));
        }
        return folders;
    }

    /**
     * Keeps an app's volumes from its containers while an upgrade migrates its data: passes stop
     * them as for locked storage, with {@code reason} as their problem, until {@link #release}.
     */
    void hold(String app, String reason) {
        held.put(app, reason);
    }

    void release(String app) {
        held.remove(app);
    }

    Optional<String> held(String app) {
        return Optional.ofNullable(held.get(app));
    }

    /** Marks a role stopped for storage; its next start is a resume, not a crash restart. */
    void stoppedForStorage(String role) {
        stopped.add(role);
    }

    /** Whether the role was stopped for storage (and forgets it: it is being started again). */
    boolean resumes(String role) {
        return stopped.remove(role);
    }

    SupervisorStatus.Storage status() {
        return volumes.map(v -> new SupervisorStatus.Storage(v.backend().name(), v.backend().encrypted(), v.locked(),
                        v.passphraseSet()))
                .orElse(new SupervisorStatus.Storage("none", false, true, false));
    }

    /** What the app set aside for its owner on its open volumes. */
    List<SupervisorStatus.Quarantined> quarantine(AppManifest m) {
        if (volumes.isEmpty()) {
            return List.of();
        }
        List<SupervisorStatus.Quarantined> items = new ArrayList<>();
        m.containers().values().stream().flatMap(c -> c.volumes().stream())
                .map(v -> volumeName(m.app(), v.name())).distinct()
                .filter(volumes.get()::isOpen)
                .forEach(v -> items.addAll(QuarantineShelf.read(v, volumes.get().backend().dataFolder(v))));
        return items;
    }

    /** Whether {@link #secret} can tell now: there is a key vault and storage is unlocked. */
    boolean secretsReadable() {
        return volumes.isPresent() && volumes.get().backend().encrypted() && !volumes.get().locked();
    }

    /**
     * Changes after (never before) what {@link #secret} answers may have changed: a reader that
     * takes it before reading the vault and finds it the same later has nothing new to read.
     */
    long secretsGeneration() {
        return secretsGeneration.get();
    }

    /**
     * A secret from the key vault; empty when not set or unreadable now (see {@link #secretsReadable});
     * an IOException when the vault cannot be read or the entry is damaged (a reader tries again later).
     */
    Optional<byte[]> secret(String name) throws IOException {
        if (!secretsReadable()) {
            return Optional.empty();
        }
        return volumes.get().secret(name);
    }

    void putSecret(String name, byte[] value) throws IOException {
        try {
            storage().putSecret(name, value);
        } finally {
            // Even a write that failed after the vault changed must be handed over.
            secretsGeneration.incrementAndGet();
        }
    }

    boolean removeSecret(String name) throws IOException {
        try {
            return storage().removeSecret(name);
        } finally {
            secretsGeneration.incrementAndGet();
        }
    }

    List<String> secretNames() throws IOException {
        return storage().secretNames();
    }

    boolean passphraseSet() {
        return storage().passphraseSet();
    }

    boolean locked() {
        return volumes.isPresent() && volumes.get().locked();
    }

    void unlock(char[] passphrase) throws Exception {
        storage().unlock(passphrase);
        secretsGeneration.incrementAndGet();
    }

    void verify(char[] passphrase) throws Exception {
        storage().verify(passphrase);
    }

    String backendName() {
        return storage().backend().name();
    }

    void changePassphrase(char[] current, char[] replacement) throws Exception {
        storage().changePassphrase(current, replacement);
    }

    /** Forgets the master key, stops every container with a volume and closes the volumes. */
    void lock(List<AppManifest> apps) throws IOException {
        storage().lock();
        secretsGeneration.incrementAndGet();
        List<String> failed = new ArrayList<>();
        for (AppManifest m : apps) {
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
        if (!failed.isEmpty()) {
            throw new IOException("locked, but these volumes did not close: " + String.join("; ", failed));
        }
    }

    /** Grows a volume: its app's containers with volumes stop, the volume is closed and grown (the next pass starts them). */
    void grow(AppManifest m, String volume, long sizeBytes) throws IOException {
        if (m.containers().values().stream().flatMap(c -> c.volumes().stream()).noneMatch(v -> v.name().equals(volume))) {
            throw new IOException("app " + m.app() + " declares no volume " + volume);
        }
        if (storage().locked()) {
            throw new AppVolumes.LockedException();
        }
        stopContainersWithVolumes(m);
        String name = volumeName(m.app(), volume);
        storage().close(name);
        storage().grow(name, sizeBytes);
        LOG.info("app={} volume={} event=grown bytes={}", m.app(), name, sizeBytes);
    }

    /**
     * Before an upgrade: the app's containers with volumes stopped and its volumes closed, ready for
     * {@link #copyAside}. Needs storage unlocked: the new version must open them again.
     */
    void closeForSnapshot(AppManifest m) throws IOException {
        if (volumeNames(m).isEmpty()) {
            // Nothing to copy: its containers are all replaced or started beside.
            return;
        }
        if (storage().locked()) {
            throw new AppVolumes.LockedException();
        }
        stopAndClose(m);
    }

    /**
     * Copies each of the app's closed volumes aside as it is on disk (still encrypted). Runs outside
     * the supervisor's lock, so a long copy holds up no other app; the caller keeps these volumes held.
     */
    void copyAside(AppManifest m) throws IOException {
        for (String name : volumeNames(m)) {
            storage().snapshot(name);
            LOG.info("app={} volume={} event=snapshot", m.app(), name);
        }
    }

    /** The app's containers with volumes stopped and its volumes closed (a failed upgrade's, before it is undone). */
    void stopAndClose(AppManifest m) throws IOException {
        if (volumes.isEmpty()) {
            return;
        }
        stopContainersWithVolumes(m);
        for (String name : volumeNames(m)) {
            storage().close(name);
        }
    }

    /** Puts back each of the app's volumes that has a snapshot (closed first). */
    void restore(AppManifest m) throws IOException {
        for (String name : volumeNames(m)) {
            if (storage().hasSnapshot(name)) {
                storage().close(name);
                storage().restore(name);
                LOG.info("app={} volume={} event=restored", m.app(), name);
            }
        }
    }

    void dropSnapshots(AppManifest m) throws IOException {
        for (String name : volumeNames(m)) {
            storage().dropSnapshot(name);
        }
    }

    private static List<String> volumeNames(AppManifest m) {
        return m.containers().values().stream().flatMap(c -> c.volumes().stream())
                .map(v -> volumeName(m.app(), v.name())).distinct().toList();
    }

    private void stopContainersWithVolumes(AppManifest m) {
        runtime.containers(AppTeardown.labelsOf(instance, m.app())).stream()
                .filter(c -> m.containers().containsKey(c.labels().getOrDefault(HearthLabels.ROLE, "")))
                .filter(c -> !m.containers().get(c.labels().get(HearthLabels.ROLE)).volumes().isEmpty())
                .forEach(c -> {
                    runtime.stop(c.id(), Duration.ofSeconds(10));
                    stoppedForStorage(m.app() + "/" + c.labels().get(HearthLabels.ROLE));
                });
    }

    private AppVolumes storage() {
        return volumes.orElseThrow(() -> new IllegalStateException(
                "no encrypted storage on this machine (see hearth doctor)"));
    }
}
