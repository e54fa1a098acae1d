package org.hearth.core.catalog;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestException;
import org.hearth.core.manifest.ManifestReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Brings one release of a verified catalog onto the box: its manifest, checked against the digest
 * the index gives, and its images, loaded into the engine only once their archive matches its digest
 * and size (a flipped byte anywhere is refused before the engine sees it), then checked by the IDs the
 * index gives. Images already in the engine under those IDs are not fetched again.
 */
public final class ReleaseFetcher {

    static final long MANIFEST_LIMIT = 256 << 10;
    /** The whole load's limit: the mail app's archive (235 MiB) took under 5 min on the emulated Pi. */
    static final Duration LOAD_LIMIT = Duration.ofMinutes(30);

    private final DockerClient docker;
    private final Path downloads;
    private final Optional<String> hearthVersion;

    /**
     * @param downloads a folder for archives on their way (same file system as the state: an archive is
     *                  hundreds of megabytes)
     * @param hearthVersion this Hearth's version, empty for a development build from classes
     */
    public ReleaseFetcher(DockerClient docker, Path downloads, Optional<String> hearthVersion) {
        this.docker = docker;
        this.downloads = downloads;
        this.hearthVersion = hearthVersion;
    }

    /** A release ready to install: its images are in the engine, and this is its manifest. */
    public record Fetched(Catalogs.Found found, String manifestText, AppManifest manifest, boolean imagesLoaded) {
        public String label() {
            return "catalog " + found.source().name() + " (index " + found.index().version() + "): "
                    + found.app().name() + " " + found.release().version();
        }
    }

    public Fetched fetch(Catalogs.Found found, Consumer<String> progress) throws CatalogException {
        CatalogIndex.Release release = found.release();
        String what = found.app().name() + " " + release.version();
        if (hearthVersion.isPresent() && !Versions.parse(hearthVersion.get()).meets(Versions.parse(release.minHearth()))) {
            throw new CatalogException(what + " needs Hearth " + release.minHearth() + " or newer; this is " + hearthVersion.get());
        }
        CatalogSource source = found.source().open();
        byte[] manifestBytes = source.require(release.manifest().path(), Math.min(release.manifest().size(), MANIFEST_LIMIT));
        checkDigest(release.manifest(), manifestBytes.length, IndexTrust.sha256(manifestBytes));
        String text = new String(manifestBytes, StandardCharsets.UTF_8);
        AppManifest manifest;
        try {
            manifest = ManifestReader.read(release.manifest().path(), text);
        } catch (ManifestException e) {
            throw new CatalogException(what + ": its manifest is not valid for this Hearth: " + e.getMessage(), e);
        }
        if (!manifest.app().equals(found.app().name()) || !manifest.version().equals(release.version())) {
            throw new CatalogException(release.manifest().path() + " is " + manifest.app() + " " + manifest.version()
                    + ", but the index lists it as " + what);
        }
        String arch = engineArch();
        CatalogIndex.Images images = release.imagesFor(arch).orElseThrow(() -> new CatalogException(what
                + " has no images for this box's architecture, " + arch + " (the catalog offers "
                + String.join(", ", release.arches()) + ")"));
        Set<String> vouched = images.contents().stream().map(CatalogIndex.Image::ref).collect(Collectors.toSet());
        for (AppManifest.Container c : manifest.containers().values()) {
            if (!vouched.contains(withTag(c.image()))) {
                throw new CatalogException(what + " runs " + c.image() + ", which the index does not list with a digest: refused");
            }
        }
        boolean loaded = false;
        List<CatalogIndex.Image> missing = images.contents().stream().filter(i -> !present(i)).toList();
        if (!missing.isEmpty()) {
            progress.accept("fetching " + images.archive().path() + " (" + arch + ", " + (images.archive().size() >> 20)
                    + " MiB) for " + missing.stream().map(CatalogIndex.Image::ref).collect(Collectors.joining(", ")));
            load(source, images.archive(), progress);
            for (CatalogIndex.Image image : images.contents()) {
                if (!present(image)) {
                    throw new CatalogException(images.archive().path() + " did not give " + image.ref() + " as "
                            + image.id() + " (the engine has " + imageId(image.ref()).orElse("nothing") + ")");
                }
            }
            loaded = true;
        }
        return new Fetched(found, text, manifest, loaded);
    }

    private void load(CatalogSource source, CatalogIndex.FileRef archive, Consumer<String> progress) throws CatalogException {
        Path file;
        try {
            removeAbandoned();
            file = Files.createTempFile(Files.createDirectories(downloads), "archive-", ".part");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a download in " + downloads, e);
        }
        try {
            MessageDigest sha = sha256();
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
                size = source.copy(archive.path(), archive.size(), out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
            checkDigest(archive, size, HexFormat.of().formatHex(sha.digest()));
            progress.accept("verified " + archive.path() + " (SHA-256 " + archive.sha256().substring(0, 12) + "), loading it into the engine");
            Instant start = Instant.now();
            try (InputStream in = Files.newInputStream(file)) {
                List<String> images = new ImageArchiveLoader(docker, LOAD_LIMIT).load(archive.path(), in);
                progress.accept("loaded " + archive.path() + " (" + images.size() + " images) in "
                        + Duration.between(start, Instant.now()).toSeconds() + " s");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // Left for removeAbandoned.
            }
        }
    }

    /** Downloads a killed install left behind (an hour old: never one still being written). */
    private void removeAbandoned() throws IOException {
        if (!Files.isDirectory(downloads)) {
            return;
        }
        Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
        try (Stream<Path> parts = Files.list(downloads)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().endsWith(".part")).toList()) {
                if (Files.getLastModifiedTime(p).toInstant().isBefore(hourAgo)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void checkDigest(CatalogIndex.FileRef ref, long size, String sha256) throws CatalogException {
        if (size != ref.size() || !sha256.equals(ref.sha256())) {
            throw new CatalogException(ref.path() + " failed verification: " + size + " bytes with SHA-256 " + sha256
                    + ", the signed index says " + ref.size() + " bytes with " + ref.sha256() + "; nothing was installed");
        }
    }

    /** The architecture the engine runs containers for, in Debian's (and Go's) name: amd64, arm64. */
    private String engineArch() {
        return docker.versionCmd().exec().getArch();
    }

    private boolean present(CatalogIndex.Image image) {
        return imageId(image.ref()).filter(image.id()::equals).isPresent();
    }

    private Optional<String> imageId(String ref) {
        try {
            return Optional.ofNullable(docker.inspectImageCmd(ref).exec().getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    /** {@code hearth/x} as the engine names it: {@code hearth/x:latest}. */
    static String withTag(String image) {
        return image.substring(image.lastIndexOf('/') + 1).contains(":") ? image : image + ":latest";
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
