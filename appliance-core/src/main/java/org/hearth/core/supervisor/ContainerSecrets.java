package org.hearth.core.supervisor;

import org.hearth.core.certificates.BoxCertificate;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.network.RelayConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * What a container may know that is not in its manifest: the relay's password (from the key vault)
 * and the CA certificates appliance.yaml trusts for the relay, for a container that sends through the
 * relay; the box's certificate and key for the host its manifest names in {@code certificate:}, once
 * the box has one ({@value #TLS_CHAIN} and {@value #TLS_KEY}, PEM; a server that reads them at
 * its handshakes takes a renewal with no restart: docs/manifest.md). They are written to a
 * folder in memory (/dev/shm, a tmpfs on every Linux), never to disk, one folder per container (APP/ROLE),
 * which the container sees read-only at /run/secrets; a value changed in the vault reaches the
 * running container without a restart. Locking storage empties them all. A folder is written
 * again only when what it was written from changed: the pass that asks runs every second.
 */
final class ContainerSecrets {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerSecrets.class);
    static final String RELAY_PASSWORD = "relay-password";
    static final String RELAY_TRUST = "relay-trust.pem";
    static final String TLS_CHAIN = "tls-chain.pem";
    static final String TLS_KEY = "tls-key.pem";

    private final Path root;
    private final Optional<RelayConfig> relay;
    private final AppStorage vault;
    private final Path certificates;
    private final Supplier<String> boxDomain;
    /** What each folder was last written from; its owner is the pass, under the supervisor's lock. */
    private final Map<Path, Source> written = new HashMap<>();

    /**
     * What a folder was written from: the vault's generation and the relay trust file's stamp (for a
     * relay sender), the certificate's folder and its chain's stamp (for a container with one).
     */
    private record Source(long vaultGeneration, Optional<FileStamp> trust, Optional<Path> certificate,
                          Optional<FileStamp> chain) {
    }

    /** Enough of a file's attributes to tell, without reading it, that it was changed or replaced. */
    private record FileStamp(FileTime modified, long size, Object fileKey) {
        static FileStamp of(Path file) throws IOException {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileStamp(a.lastModifiedTime(), a.size(), a.fileKey());
        }

        static Optional<FileStamp> ifPresent(Path file) throws IOException {
            return Files.exists(file) ? Optional.of(of(file)) : Optional.empty();
        }
    }

    /**
     * @param root         a folder on a tmpfs, owned by the supervisor
     * @param certificates the state folder's {@code certificates/}, a folder per host ({@link BoxCertificate})
     * @param boxDomain    the box's name now, for a manifest's {@code certificate: mail.${box.domain}}
     */
    ContainerSecrets(Path root, Optional<RelayConfig> relay, AppStorage vault, Path certificates, Supplier<String> boxDomain) {
        this.root = root;
        this.relay = relay;
        this.vault = vault;
        this.certificates = certificates;
        this.boxDomain = boxDomain;
    }

    static Path defaultRoot(String instance) {
        return Path.of("/dev/shm", "hearth-" + instance);
    }

    /** Whether the container gets a secrets folder: it sends through the relay appliance.yaml names, or has a certificate. */
    boolean needs(AppManifest.Container decl) {
        return sendsThroughRelay(decl) || !decl.certificate().isEmpty();
    }

    boolean sendsThroughRelay(AppManifest.Container decl) {
        return relay.isPresent() && decl.egress().stream().anyMatch(e -> e.to().equals(AppManifest.Egress.RELAY));
    }

    Path folder(String app, String role) {
        return root.resolve(app).resolve(role);
    }

    /**
     * Brings the container's folder up to date: all of it for a container about to be made, else
     * only when storage was unlocked or locked, a secret set or removed, the relay's trust file
     * changed, the certificate was obtained or renewed, or the folder is gone. A password not set is
     * left out: the container says so in its status instead of failing to start; so is a certificate
     * not obtained yet: the container offers its self-signed one meanwhile.
     */
    void refresh(String app, String role, AppManifest.Container decl, boolean newContainer) {
        if (!needs(decl)) {
            return;
        }
        Path folder = folder(app, role);
        try {
            boolean relaySender = sendsThroughRelay(decl);
            Optional<String> trust = relaySender ? relay.get().trust() : Optional.empty();
            Optional<Path> certificate = decl.certificate().stream().findFirst()
                    .map(host -> BoxCertificate.folder(certificates, BoxName.expand(host, boxDomain.get())));
            // Taken before anything is read: a change meanwhile is written at the next pass.
            Source now = new Source(relaySender ? vault.secretsGeneration() : 0,
                    trust.isPresent() ? Optional.of(FileStamp.of(Path.of(trust.get()))) : Optional.empty(),
                    certificate, certificate.isPresent() ? FileStamp.ifPresent(certificate.get().resolve(BoxCertificate.CHAIN))
                            : Optional.empty());
            if (!newContainer && now.equals(written.get(folder)) && Files.isDirectory(folder)) {
                return;
            }
            prepare(folder);
            if (relaySender && !writeRelay(folder, relay.get())) {
                return;
            }
            if (certificate.isPresent()) {
                writeCertificate(folder, certificate.get());
            }
            written.put(folder, now);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the secrets of " + app + "/" + role + " to " + folder, e);
        }
    }

    /** The relay's password and trust; false if the vault could not be read (tried again at the next pass). */
    private boolean writeRelay(Path folder, RelayConfig r) throws IOException {
        // A supervisor restarted while storage stays open cannot read the vault until the owner
        // unlocks: what it handed over before stays, as the open volumes do.
        if (r.username().isEmpty()) {
            write(folder.resolve(RELAY_PASSWORD), Optional.empty());
        } else if (vault.secretsReadable()) {
            try {
                write(folder.resolve(RELAY_PASSWORD), vault.secret(RelayConfig.PASSWORD_SECRET));
            } catch (IOException unreadable) {
                // What was handed over stays; not recorded as written, so the next pass tries again.
                LOG.warn("event=secret-unreadable name={} error={}", RelayConfig.PASSWORD_SECRET, unreadable.getMessage());
                return false;
            }
        }
        write(folder.resolve(RELAY_TRUST), r.trust().isPresent() ? Optional.of(Files.readAllBytes(Path.of(r.trust().get())))
                : Optional.empty());
        return true;
    }

    /**
     * The certificate's key, then its chain: the container, reading the chain, finds its key
     * already there (and refuses a pair that does not match, keeping what it offered before).
     */
    private static void writeCertificate(Path folder, Path certificate) throws IOException {
        Path chain = certificate.resolve(BoxCertificate.CHAIN);
        if (!Files.isRegularFile(chain)) {
            // None yet for this name (perhaps the box was renamed): none of another name's either.
            write(folder.resolve(TLS_CHAIN), Optional.empty());
            write(folder.resolve(TLS_KEY), Optional.empty());
            return;
        }
        write(folder.resolve(TLS_KEY), Optional.of(Files.readAllBytes(certificate.resolve(BoxCertificate.KEY))));
        write(folder.resolve(TLS_CHAIN), Optional.of(Files.readAllBytes(chain)));
    }

    /** Storage is locked: no secret stays in memory outside the vault. */
    void clearAll() {
        written.clear();
        delete(root, null);
    }

    /**
     * The containers are gone (an app removed, or with no app all of them stopped by hearth down):
     * so are their secrets' folders, and with no app the instance's own folder too.
     */
    static void forget(String instance, String app) {
        Path root = defaultRoot(instance);
        delete(root, app);
        if (app == null) {
            try {
                Files.deleteIfExists(root);
            } catch (IOException e) {
                LOG.warn("event=secrets-not-cleared root={} error={}", root, e.getMessage());
            }
        }
    }

    /** Deletes what is in {@code root}, or with {@code app} only that app's folders. */
    static void delete(Path root, String app) {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(root))
                    .filter(p -> app == null || root.relativize(p).getName(0).toString().equals(app)).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("event=secrets-not-cleared root={} error={}", root, e.getMessage());
        }
    }

    private void prepare(Path folder) throws IOException {
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root);
        }
        // Only root passes the parents; the container's own user reads its folder (bind-mounted, read-only).
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        Files.createDirectories(folder);
        Files.setPosixFilePermissions(folder.getParent(), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-x------"));
        Files.setAttribute(folder, "unix:uid", ImageRecipe.UID);
        Files.setAttribute(folder, "unix:gid", ImageRecipe.GID);
    }

    /** Writes (or with an empty value removes) one file, only when it changed; readable by the container's user alone. */
    private static void write(Path file, Optional<byte[]> value) throws IOException {
        try {
            if (value.isEmpty()) {
                Files.deleteIfExists(file);
                return;
            }
            if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), value.get())) {
                return;
            }
            Path next = file.resolveSibling("." + file.getFileName() + ".new");
            Files.write(next, value.get());
            Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("r--------"));
            Files.setAttribute(next, "unix:uid", ImageRecipe.UID);
            Files.setAttribute(next, "unix:gid", ImageRecipe.GID);
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            value.ifPresent(v -> Arrays.fill(v, (byte) 0));
        }
    }

    /** The environment a relay-sending container gets: where the relay is and whom to log in as. */
    Map<String, String> relayEnvironment() {
        RelayConfig r = relay.orElseThrow();
        return r.username().isPresent()
                ? Map.of("HEARTH_RELAY", r.host() + ":" + r.port(), "HEARTH_RELAY_USER", r.username().get())
                : Map.of("HEARTH_RELAY", r.host() + ":" + r.port());
    }
}
