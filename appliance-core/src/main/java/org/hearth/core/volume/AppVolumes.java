package org.hearth.core.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hearth.core.Backoff;
import org.hearth.core.OwnerOnlyFile;
import org.hearth.core.SystemTool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The apps' volumes on one backend, and the lock over them. Locked (after every start and after
 * {@link #lock}): the master key is not in memory and no encrypted volume can be opened or made.
 * {@link #unlock} takes the owner's passphrase (the first one sets it); wrong passphrases are
 * throttled, with the count kept on disk so a restart does not reset it.
 */
public final class AppVolumes {

    private static final Logger LOG = LoggerFactory.getLogger(AppVolumes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Three wrong passphrases are free; then 10 s, doubling per failure, up to 15 minutes. */
    private static final Backoff THROTTLE = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(15), 3);

    /** Storage is locked and the volume is closed: it cannot be opened until the owner unlocks. */
    public static final class LockedException extends IOException {
        public LockedException() {
            super("storage is locked (run: hearth unlock)");
        }
    }

    /** Too many wrong passphrases in a row: nothing was tried. */
    public static final class ThrottledException extends Exception {
        ThrottledException(Duration wait) {
            super("too many wrong passphrases: try again in " + Math.max(1, wait.toSeconds()) + " s");
        }
    }

    private final VolumeBackend backend;
    private final KeyVault vault;
    private final KeyVault.Cost cost;
    private final Path failuresFile;
    private byte[] master;

    public AppVolumes(VolumeBackend backend, Path stateDir, KeyVault.Cost cost) {
        this.backend = backend;
        this.vault = KeyVault.at(stateDir.resolve("keys.json"));
        this.cost = cost;
        this.failuresFile = stateDir.resolve("unlock-failures.json");
    }

    /** The best backend this machine offers (LUKS2, else fscrypt), or plain only when asked for. */
    public static Optional<VolumeBackend> choose(Path volumesDir, int uid, int gid, boolean insecurePlain) {
        if (insecurePlain) {
            return Optional.of(new PlainVolumes(volumesDir, uid, gid));
        }
        if (LuksVolumes.available()) {
            return Optional.of(new LuksVolumes(volumesDir, uid, gid));
        }
        if (FscryptVolumes.available()) {
            return Optional.of(new FscryptVolumes(volumesDir, uid, gid));
        }
        return Optional.empty();
    }

    /** The backend holding an existing volume, told by its file; empty when the volume does not exist. */
    public static Optional<VolumeBackend> holding(Path volumesDir, String volume, int uid, int gid) {
        return java.util.stream.Stream.<VolumeBackend>of(new LuksVolumes(volumesDir, uid, gid),
                        new FscryptVolumes(volumesDir, uid, gid), new PlainVolumes(volumesDir, uid, gid))
                .filter(b -> b.exists(volume)).findFirst();
    }

    /**
     * Closes a volume, or with {@code delete} destroys it and forgets its key, from outside the
     * supervisor (hearth app remove); a volume that does not exist is fine.
     */
    public static void release(Path stateDir, Path volumesDir, String volume, int uid, int gid, boolean delete)
            throws IOException {
        Optional<VolumeBackend> backend = holding(volumesDir, volume, uid, gid);
        if (backend.isPresent() && !delete) {
            backend.get().close(volume);
            return;
        }
        if (backend.isPresent()) {
            backend.get().destroy(volume);
        }
        KeyVault vault = KeyVault.at(stateDir.resolve("keys.json"));
        if (delete && vault.hasVolume(volume)) {
            vault.forgetVolume(volume);
        }
    }

    public VolumeBackend backend() {
        return backend;
    }

    public synchronized boolean locked() {
        return backend.encrypted() && master == null;
    }

    /** Whether the owner has set a passphrase yet. */
    public boolean passphraseSet() {
        return vault.exists();
    }

    /** Opens the vault (creating it with this passphrase if none exists) and keeps the master key until {@link #lock}. */
    public synchronized void unlock(char[] passphrase) throws IOException, KeyVault.WrongPassphraseException, ThrottledException {
        if (!vault.exists()) {
            vault.create(passphrase, cost);
        }
        checkThrottle();
        byte[] key;
        try {
            key = vault.unlock(passphrase);
        } catch (KeyVault.WrongPassphraseException e) {
            recordFailure();
            throw e;
        }
        Files.deleteIfExists(failuresFile);
        clearMaster();
        master = key;
    }

    /**
     * Whether {@code passphrase} is the owner's, without keeping the key (a login to the owner
     * app); wrong ones count towards the same throttle as unlocking.
     */
    public synchronized void verify(char[] passphrase) throws IOException, KeyVault.WrongPassphraseException, ThrottledException {
        checkThrottle();
        try {
            java.util.Arrays.fill(vault.unlock(passphrase), (byte) 0);
        } catch (KeyVault.WrongPassphraseException e) {
            recordFailure();
            throw e;
        }
        Files.deleteIfExists(failuresFile);
    }

    /** Forgets the master key; the caller has stopped the volumes' containers and closes the volumes. */
    public synchronized void lock() {
        clearMaster();
    }

    public synchronized void changePassphrase(char[] current, char[] replacement)
            throws IOException, KeyVault.WrongPassphraseException, ThrottledException {
        checkThrottle();
        try {
            vault.changePassphrase(current, replacement, cost);
        } catch (KeyVault.WrongPassphraseException e) {
            recordFailure();
            throw e;
        }
        Files.deleteIfExists(failuresFile);
    }

    /**
     * The open data folder of {@code volume}: made (with a new key) when neither it nor its key
     * exists yet, opened otherwise. A volume whose file or key is gone is an error, never
     * silently replaced by an empty one. A volume still open from an earlier supervisor process is
     * used even while locked (a supervisor restart is not a reboot); a closed one while locked is a
     * {@link LockedException}.
     */
    public synchronized Path open(String volume, long sizeBytes) throws IOException {
        if (!backend.encrypted()) {
            return backend.exists(volume) ? backend.open(volume, new byte[0]) : backend.create(volume, sizeBytes, new byte[0]);
        }
        if (backend.isOpen(volume)) {
            return backend.dataFolder(volume);
        }
        if (master == null) {
            throw new LockedException();
        }
        boolean hasKey = vault.hasVolume(volume);
        boolean hasFile = backend.exists(volume);
        if (!hasKey && !hasFile) {
            byte[] key = vault.newVolumeKey(master, volume, backend.keyBytes());
            try {
                return backend.create(volume, sizeBytes, key);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        }
        if (!hasFile) {
            throw new IOException("volume " + volume + ": its file " + backend.backingFile(volume)
                    + " is missing; not making an empty one in its place (restore the file, or remove the app's data)");
        }
        if (!hasKey) {
            throw new IOException("volume " + volume + ": the key vault has no key for " + backend.backingFile(volume)
                    + " (was the vault replaced?); the volume was left untouched");
        }
        byte[] key = vault.volumeKey(master, volume);
        try {
            return backend.open(volume, key);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    public synchronized boolean isOpen(String volume) {
        return backend.isOpen(volume);
    }

    public synchronized void close(String volume) throws IOException {
        backend.close(volume);
    }

    /**
     * Copies a closed volume's file aside, as it is on disk: the snapshot is as encrypted as the volume,
     * under the same key, and sparse where the volume is. One snapshot per volume; a new one replaces it.
     * The caller keeps the volume closed until it returns.
     */
    public void snapshot(String volume) throws IOException {
        Path file = backend.backingFile(volume);
        Path partial = partialSnapshotOf(volume);
        synchronized (this) {
            // A plain (development) volume is a folder that is always "open"; its containers are stopped all the same.
            if (backend.encrypted() && backend.isOpen(volume)) {
                throw new IOException("volume " + volume + " is open; close it before its snapshot");
            }
            deleteTree(partial);
        }
        // Not under this object's lock: a copy of gigabytes must not hold up every other volume's open.
        try {
            SystemTool.run("cp", "-a", "--sparse=always", "--reflink=auto", file.toString(), partial.toString());
        } catch (IOException | RuntimeException e) {
            // A full disk is the likely cause: the half copy must not keep it full.
            deleteTree(partial);
            throw e;
        }
        synchronized (this) {
            deleteTree(snapshotOf(volume));
            Files.move(partial, snapshotOf(volume), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Puts a closed volume back as its snapshot was, and keeps no snapshot. */
    public synchronized void restore(String volume) throws IOException {
        if (backend.encrypted() && backend.isOpen(volume)) {
            throw new IOException("volume " + volume + " is open; close it before restoring it");
        }
        Path file = backend.backingFile(volume);
        if (!Files.exists(snapshotOf(volume))) {
            throw new IOException("volume " + volume + " has no snapshot to restore");
        }
        Path replaced = file.resolveSibling(file.getFileName() + ".replaced");
        deleteTree(replaced);
        if (Files.exists(file)) {
            Files.move(file, replaced, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(snapshotOf(volume), file, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(replaced);
    }

    public synchronized boolean hasSnapshot(String volume) {
        return Files.exists(snapshotOf(volume));
    }

    public synchronized void dropSnapshot(String volume) throws IOException {
        deleteTree(partialSnapshotOf(volume));
        deleteTree(snapshotOf(volume));
    }

    private Path partialSnapshotOf(String volume) {
        Path file = backend.backingFile(volume);
        return file.resolveSibling(file.getFileName() + ".snapshot-partial");
    }

    private Path snapshotOf(String volume) {
        Path file = backend.backingFile(volume);
        return file.resolveSibling(file.getFileName() + ".snapshot");
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Grows a closed volume (its containers stopped, the volume closed, by the caller). */
    public synchronized void grow(String volume, long sizeBytes) throws IOException {
        if (!backend.encrypted()) {
            backend.grow(volume, sizeBytes, new byte[0]);
            return;
        }
        if (master == null) {
            throw new LockedException();
        }
        byte[] key = vault.volumeKey(master, volume);
        try {
            backend.grow(volume, sizeBytes, key);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Stores a secret in the key vault; needs storage unlocked (the master key wraps it). */
    public synchronized void putSecret(String name, byte[] value) throws IOException {
        vault.putSecret(unlockedMaster(), name, value);
        LOG.info("event=secret-set name={}", name);
    }

    /** A secret's value, if set; the caller clears it when done. */
    public synchronized Optional<byte[]> secret(String name) throws IOException {
        return vault.secret(unlockedMaster(), name);
    }

    public synchronized boolean removeSecret(String name) throws IOException {
        boolean removed = vault.removeSecret(name);
        LOG.info("event=secret-removed name={} existed={}", name, removed);
        return removed;
    }

    public List<String> secretNames() throws IOException {
        return vault.secretNames();
    }

    private byte[] unlockedMaster() throws IOException {
        if (!backend.encrypted()) {
            throw new IOException("this appliance's storage is not encrypted (" + backend.name()
                    + "), so it has no key vault to keep secrets in");
        }
        if (master == null) {
            throw new LockedException();
        }
        return master;
    }

    private void clearMaster() {
        if (master != null) {
            Arrays.fill(master, (byte) 0);
            master = null;
        }
    }

    private void checkThrottle() throws IOException, ThrottledException {
        Failures f = readFailures();
        Duration wait = THROTTLE.after(f.count());
        if (wait.isZero()) {
            return;
        }
        Instant until = Instant.ofEpochMilli(f.lastMillis()).plus(wait);
        Instant now = Instant.now();
        if (now.isBefore(until)) {
            throw new ThrottledException(Duration.between(now, until));
        }
    }

    private record Failures(int count, long lastMillis) {
    }

    /**
     * The failed-unlock record; an unreadable one counts as none, with a warning. Resetting gives
     * nothing away: the file is root's, mode 600, and whoever can damage it can as well delete it,
     * while it is written atomically, so a crash cannot damage it; refusing every unlock for
     * a file problem would lock the owner out of their mail instead.
     */
    private Failures readFailures() throws IOException {
        if (!Files.exists(failuresFile)) {
            return new Failures(0, 0);
        }
        JsonNode f;
        try {
            f = JSON.readTree(failuresFile.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            f = null;
        }
        if (f == null || !f.path("failures").canConvertToInt() || !f.path("failures").isIntegralNumber()
                || !f.path("last").isIntegralNumber()) {
            LOG.warn("event=unlock-failures-reset file={} reason=unreadable bytes={}", failuresFile,
                    Files.size(failuresFile));
            return new Failures(0, 0);
        }
        return new Failures(Math.max(0, f.get("failures").asInt()), f.get("last").asLong());
    }

    /** Written beside the old record and renamed over it: a crash leaves the old count or the new one. */
    private void recordFailure() throws IOException {
        ObjectNode f = JSON.createObjectNode();
        f.put("failures", readFailures().count() + 1);
        f.put("last", System.currentTimeMillis());
        OwnerOnlyFile.write(failuresFile, JSON.writeValueAsBytes(f));
    }
}
