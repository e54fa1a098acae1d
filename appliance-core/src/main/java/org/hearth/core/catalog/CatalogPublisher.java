package org.hearth.core.catalog;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.SaveImagesCmd;
import com.github.dockerjava.api.exception.NotFoundException;
import org.hearth.core.image.ImagePlatform;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Publishes apps from manifest folders ({@code manifests/NAME/app.yaml}, with an optional
 * {@code icon.svg} and {@code release-notes.md}) and the images built on this machine as a signed
 * catalog folder: each release's manifest, one gzip'd {@code docker save} archive of its images, and
 * an index naming them all by SHA-256, signed with the publisher's key. Releases already in the folder
 * stay; the index's version goes up by one.
 */
public final class CatalogPublisher {

    /** A catalog is public: whatever serves the folder may read every file (the signing key lives elsewhere). */
    private static final Set<PosixFilePermission> PUBLISHED = PosixFilePermissions.fromString("rw-r--r--");

    private final DockerClient docker;
    private final Clock clock;
    private final Consumer<String> progress;

    public CatalogPublisher(DockerClient docker, Clock clock, Consumer<String> progress) {
        this.docker = docker;
        this.clock = clock;
        this.progress = progress;
    }

    /**
     * @param republish allow a release already published to change (development only: boxes that
     *                  installed the old content are not told)
     */
    public CatalogIndex publish(String catalog, List<Path> appFolders, Path out, CatalogKey.Signing key, Duration lifetime,
                                boolean republish) throws IOException, CatalogException {
        return publish(catalog, appFolders, out, key, lifetime, republish, List.of(ImagePlatform.host()));
    }

    /** @param platforms the architectures whose images each release carries (one archive each; built here first) */
    public CatalogIndex publish(String catalog, List<Path> appFolders, Path out, CatalogKey.Signing key, Duration lifetime,
                                boolean republish, List<ImagePlatform> platforms) throws IOException, CatalogException {
        if (platforms.isEmpty() || platforms.stream().map(ImagePlatform::arch).distinct().count() != platforms.size()) {
            throw new CatalogException("name each architecture to publish images for once: "
                    + platforms.stream().map(ImagePlatform::arch).toList());
        }
        Files.createDirectories(out);
        Optional<CatalogIndex> previous = Files.exists(out.resolve(Catalogs.INDEX))
                ? Optional.of(CatalogIndex.parse(out.resolve(Catalogs.INDEX).toString(), Files.readAllBytes(out.resolve(Catalogs.INDEX))))
                : Optional.empty();
        if (previous.isPresent() && !previous.get().catalog().equals(catalog)) {
            throw new CatalogException(out + " holds catalog " + previous.get().catalog() + ", not " + catalog);
        }
        Map<String, CatalogIndex.App> apps = new TreeMap<>();
        previous.ifPresent(p -> p.apps().forEach(a -> apps.put(a.name(), a)));
        for (Path folder : appFolders) {
            CatalogIndex.App app = publishApp(folder, out, apps.get(folder.getFileName().toString()), republish, platforms);
            apps.put(app.name(), app);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        CatalogIndex index = new CatalogIndex(CatalogIndex.FORMAT, catalog, previous.map(CatalogIndex::version).orElse(0L) + 1,
                now, now.plus(lifetime), List.copyOf(apps.values()));
        // What every box will check, checked before it is signed.
        index.check("the index for " + out);
        byte[] bytes = index.toBytes();
        byte[] signature = key.sign(CatalogKey.Purpose.INDEX, bytes);
        write(out.resolve(Catalogs.SIGNATURE), CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.SignatureFile(List.of(
                new IndexTrust.SignatureFile.Signature(key.publicKey().toString(), Base64.getEncoder().encodeToString(signature))))));
        write(out.resolve(Catalogs.INDEX), bytes);
        removeUnlisted(out, index);
        return index;
    }

    /** Archives no release lists any more (images rebuilt and republished) go: each is hundreds of megabytes. */
    private void removeUnlisted(Path out, CatalogIndex index) throws IOException {
        Set<String> listed = new HashSet<>();
        index.apps().forEach(a -> a.releases().forEach(r -> r.images().forEach(i -> listed.add(i.archive().path()))));
        Path images = out.resolve("images");
        if (!Files.isDirectory(images)) {
            return;
        }
        try (Stream<Path> files = Files.list(images)) {
            for (Path f : files.toList()) {
                if (!listed.contains("images/" + f.getFileName())) {
                    Files.delete(f);
                    progress.accept("  removed " + out.relativize(f) + ": no release lists it");
                }
            }
        }
    }

    /** Adds to {@code out/keys.json} the statement, signed by {@code from}, that {@code to} signs the catalog from now on. */
    /** Every app folder under {@code manifests} (one holding an {@code app.yaml}), in name order. */
    public static List<Path> appFolders(Path manifests) throws IOException {
        try (Stream<Path> all = Files.list(manifests)) {
            return all.filter(d -> Files.isRegularFile(d.resolve("app.yaml"))).sorted().toList();
        }
    }

    public static void rollover(String catalog, Path out, CatalogKey.Signing from, CatalogKey.Public to, Clock clock)
            throws IOException {
        Path file = out.resolve(Catalogs.KEYS);
        List<IndexTrust.SignedRollover> rollovers = new ArrayList<>(Files.exists(file)
                ? CatalogIndex.JSON.readValue(file.toFile(), IndexTrust.RolloverFile.class).rollovers() : List.of());
        byte[] statement = CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.Rollover(catalog, from.publicKey().toString(),
                to.toString(), clock.instant()));
        rollovers.add(new IndexTrust.SignedRollover(Base64.getEncoder().encodeToString(statement),
                Base64.getEncoder().encodeToString(from.sign(CatalogKey.Purpose.ROLLOVER, statement))));
        write(file, CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.RolloverFile(rollovers)));
    }

    private CatalogIndex.App publishApp(Path folder, Path out, CatalogIndex.App before, boolean republish,
                                        List<ImagePlatform> platforms) throws IOException, CatalogException {
        Path manifestFile = folder.resolve("app.yaml");
        AppManifest manifest = ManifestReader.read(manifestFile);
        String name = manifest.app();
        String version = manifest.version();
        progress.accept("publishing " + name + " " + version + " from " + manifestFile + " for " + platforms.stream()
                .map(ImagePlatform::arch).collect(Collectors.joining(", ")));

        // What this release is, checked against what is published before anything is written.
        record Planned(ImagePlatform platform, Map<String, String> local, List<CatalogIndex.Image> contents, String archivePath) {
        }
        List<Planned> planned = new ArrayList<>();
        for (ImagePlatform platform : platforms) {
            // The manifest's name for each image, and the name it has here for this architecture.
            Map<String, String> local = new TreeMap<>();
            Map<String, String> ids = new TreeMap<>();
            for (AppManifest.Container c : manifest.containers().values()) {
                String ref = ReleaseFetcher.withTag(c.image());
                String here = localTag(ref, platform, manifestFile);
                try {
                    ids.put(ref, docker.inspectImageCmd(here).exec().getId());
                    local.put(ref, here);
                } catch (NotFoundException e) {
                    throw new CatalogException(here + " (" + manifestFile + ") is not built here (run: hearth images build"
                            + (platform.foreign() ? " --arch " + platform.arch() : "") + ")");
                }
            }
            List<CatalogIndex.Image> contents = ids.entrySet().stream()
                    .map(e -> new CatalogIndex.Image(e.getKey(), e.getValue())).toList();
            planned.add(new Planned(platform, local, contents, "images/"
                    + IndexTrust.sha256(String.join("\n", new TreeSet<>(ids.values())).getBytes()).substring(0, 24) + ".tar.gz"));
        }
        byte[] manifestBytes = Files.readAllBytes(manifestFile);
        String manifestPath = "apps/" + name + "/" + version + "/app.yaml";
        CatalogIndex.FileRef manifestRef = new CatalogIndex.FileRef(manifestPath, IndexTrust.sha256(manifestBytes), manifestBytes.length);
        Optional<CatalogIndex.Release> published = before == null ? Optional.empty() : before.release(version);
        if (published.isPresent() && !republish) {
            // The same release may gain an architecture, never change one a box may have installed.
            boolean changed = !published.get().manifest().equals(manifestRef) || planned.stream().anyMatch(p ->
                    published.get().imagesFor(p.platform().arch()).filter(i -> !i.contents().equals(p.contents())).isPresent());
            if (changed) {
                throw new CatalogException(name + " " + version + " is already published with other content; raise "
                        + manifestFile + "'s version (boxes that installed it are never told otherwise)");
            }
        }

        Map<String, CatalogIndex.Images> images = new TreeMap<>();
        // Architectures published before and not this time stay as they were.
        published.ifPresent(p -> p.images().forEach(i -> images.put(i.arch(), i)));
        for (Planned p : planned) {
            images.put(p.platform().arch(), new CatalogIndex.Images(p.platform().arch(),
                    archive(out, p.archivePath(), p.local(), before), p.contents()));
        }
        write(out.resolve(manifestPath), manifestBytes);
        Optional<CatalogIndex.FileRef> icon = Files.exists(folder.resolve("icon.svg"))
                ? Optional.of(copy(folder.resolve("icon.svg"), out, "apps/" + name + "/icon.svg")) : Optional.empty();
        Optional<String> notes = Files.exists(folder.resolve("release-notes.md"))
                ? Optional.of(Files.readString(folder.resolve("release-notes.md")).strip()) : Optional.empty();
        CatalogIndex.Release release = new CatalogIndex.Release(version, minHearth(), notes, manifestRef, List.copyOf(images.values()));

        List<CatalogIndex.Release> releases = new ArrayList<>();
        if (before != null) {
            before.releases().stream().filter(r -> !r.version().equals(version)).forEach(releases::add);
        }
        releases.add(release);
        return new CatalogIndex.App(name, manifest.description().orElse(""), icon, releases);
    }

    /**
     * {@code ref} as tagged here for {@code platform}: as the manifest names it for this machine's
     * architecture, {@code NAME:ARCH} for another's (the manifest must then name {@code :latest}).
     */
    private static String localTag(String ref, ImagePlatform platform, Path manifestFile) throws CatalogException {
        if (!platform.foreign()) {
            return ref;
        }
        if (!ref.endsWith(":latest")) {
            throw new CatalogException(manifestFile + ": image " + ref + ": only images tagged latest are built for "
                    + platform.arch() + " (as NAME:" + platform.tag() + ")");
        }
        return ref.substring(0, ref.length() - "latest".length()) + platform.tag();
    }

    /**
     * The archive of these images ({@code local}: the manifest's name to the name here), each tagged
     * as the manifest names it: reused when the folder already has it under the same name, else saved now.
     */
    private CatalogIndex.FileRef archive(Path out, String path, Map<String, String> local, CatalogIndex.App before)
            throws IOException {
        Path file = out.resolve(path);
        if (before != null && Files.exists(file)) {
            for (CatalogIndex.Release r : before.releases()) {
                for (CatalogIndex.Images i : r.images()) {
                    if (i.archive().path().equals(path) && Files.size(file) == i.archive().size()) {
                        progress.accept("  images: " + path + " already published");
                        return i.archive();
                    }
                }
            }
        }
        Files.createDirectories(file.getParent());
        Path partial = Files.createTempFile(file.getParent(), ".archive-", ".part");
        long start = System.nanoTime();
        MessageDigest sha = ReleaseFetcher.sha256();
        SaveImagesCmd save = docker.saveImagesCmd();
        local.values().forEach(tag -> save.withImage(tag.substring(0, tag.lastIndexOf(':')), tag.substring(tag.lastIndexOf(':') + 1)));
        Map<String, String> renames = new TreeMap<>();
        local.forEach((ref, here) -> {
            if (!ref.equals(here)) {
                renames.put(here, ref);
            }
        });
        try (InputStream in = save.exec();
             OutputStream out1 = new GZIPOutputStream(new DigestOutputStream(Files.newOutputStream(partial), sha), 1 << 16)) {
            if (renames.isEmpty()) {
                in.transferTo(out1);
            } else {
                ArchiveTags.rename(in, out1, renames);
            }
        }
        Files.setPosixFilePermissions(partial, PUBLISHED);
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        long size = Files.size(file);
        progress.accept(String.format("  images: %s, %d MiB, saved in %.1f s", path, size >> 20, (System.nanoTime() - start) / 1e9));
        return new CatalogIndex.FileRef(path, HexFormat.of().formatHex(sha.digest()), size);
    }

    private static CatalogIndex.FileRef copy(Path from, Path out, String path) throws IOException {
        byte[] bytes = Files.readAllBytes(from);
        write(out.resolve(path), bytes);
        return new CatalogIndex.FileRef(path, IndexTrust.sha256(bytes), bytes.length);
    }

    /** The Hearth a release needs: the one publishing it (its version without a development suffix). */
    private static String minHearth() {
        String v = CatalogPublisher.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0" : v.replaceFirst("-.*$", "");
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        Path partial = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".part");
        Files.write(partial, bytes);
        Files.setPosixFilePermissions(partial, PUBLISHED);
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
