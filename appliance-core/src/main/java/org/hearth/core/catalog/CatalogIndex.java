package org.hearth.core.catalog;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A catalog's index ({@code index.json}): its apps, each release's manifest and images, every file
 * named with its SHA-256 and size, so that one signature over these bytes vouches for everything a
 * release installs. {@code version} only grows and {@code expires} bounds how long a copy may be
 * replayed (TUF's rule for its timestamp and snapshot).
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record CatalogIndex(int format, String catalog, long version, Instant published, Instant expires, List<App> apps) {

    /** 2: a release's images per architecture. A format 1 index (one archive, no architecture) is still read, as amd64. */
    public static final int FORMAT = 2;
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new Jdk8Module())
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public CatalogIndex {
        apps = List.copyOf(apps == null ? List.of() : apps);
    }

    /** A file the catalog serves, at {@code path} below the catalog's root. */
    public record FileRef(String path, String sha256, long size) {
    }

    /** An image an app's release runs: the name its manifest uses and the engine's ID for its content. */
    public record Image(String ref, String id) {
    }

    /**
     * The images of a release for one architecture (Debian's name: amd64, arm64), in one
     * {@code docker save} archive (shared layers once), tagged as the manifest names them.
     */
    public record Images(String arch, FileRef archive, List<Image> contents) {
        public Images {
            // Format 1 had no architecture; every catalog then was published from an x86-64 machine.
            arch = arch == null ? "amd64" : arch;
            contents = List.copyOf(contents);
        }
    }

    public record Release(String version, @JsonProperty("min-hearth") String minHearth, Optional<String> notes,
                          FileRef manifest,
                          @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Images> images) {
        public Release {
            images = List.copyOf(images == null ? List.of() : images);
        }

        /** This release's images for {@code arch}, if the catalog offers them. */
        public Optional<Images> imagesFor(String arch) {
            return images.stream().filter(i -> i.arch().equals(arch)).findFirst();
        }

        /** The architectures it runs on. */
        public List<String> arches() {
            return images.stream().map(Images::arch).toList();
        }
    }

    public record App(String name, String description, Optional<FileRef> icon, List<Release> releases) {

        public App {
            releases = List.copyOf(releases);
        }

        /** The newest release, by version number. */
        public Release latest() {
            return releases.stream().max(Comparator.comparing(r -> Versions.parse(r.version()))).orElseThrow();
        }

        /** The newest release a box of {@code arch} can run: one with images for it. */
        public Optional<Release> latestFor(String arch) {
            return releases.stream().filter(r -> r.imagesFor(arch).isPresent())
                    .max(Comparator.comparing(r -> Versions.parse(r.version())));
        }

        /**
         * Whether a release for {@code arch} is newer than {@code installed} (an unreadable version
         * never is): a release for other boxes only is no update for this one.
         */
        public boolean offersNewerThan(String installed, String arch) {
            try {
                Optional<Release> newest = latestFor(arch);
                return newest.isPresent() && Versions.parse(newest.get().version()).compareTo(Versions.parse(installed)) > 0;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        public Optional<Release> release(String version) {
            return releases.stream().filter(r -> r.version().equals(version)).findFirst();
        }
    }

    public Optional<App> app(String name) {
        return apps.stream().filter(a -> a.name().equals(name)).findFirst();
    }

    /** Reads an index's bytes; {@code where} names the file in every message. */
    static CatalogIndex parse(String where, byte[] bytes) throws CatalogException {
        CatalogIndex index;
        try {
            // The format first: a newer one may have a layout this Hearth cannot bind at all.
            JsonNode tree = JSON.readTree(bytes);
            int format = tree != null && tree.path("format").isInt() ? tree.get("format").asInt() : -1;
            if (format != FORMAT && format != 1) {
                throw new CatalogException(where + ": format " + (format < 0 ? "missing" : format)
                        + (format > FORMAT ? " needs a newer Hearth" : " is not one Hearth reads")
                        + " (this one reads formats 1 and " + FORMAT + ")");
            }
            index = JSON.treeToValue(tree, CatalogIndex.class);
        } catch (java.io.IOException e) {
            String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new CatalogException(where + ": not a catalog index: " + detail);
        }
        index.check(where);
        return index;
    }

    byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    void check(String where) throws CatalogException {
        if (catalog == null || !NAME.matcher(catalog).matches()) {
            throw new CatalogException(where + ": catalog: a name of lower-case letters, digits and dashes is needed, not " + catalog);
        }
        if (version < 1 || published == null || expires == null) {
            throw new CatalogException(where + ": version (1 or more), published and expires are needed");
        }
        for (App app : apps) {
            String at = where + ": apps." + app.name();
            if (app.name() == null || !NAME.matcher(app.name()).matches()) {
                throw new CatalogException(where + ": an app's name must be lower-case letters, digits and dashes, not " + app.name());
            }
            if (app.releases().isEmpty()) {
                throw new CatalogException(at + ": no releases");
            }
            if (app.icon().isPresent()) {
                checkFile(at + ".icon", app.icon().get());
            }
            for (Release r : app.releases()) {
                String rat = at + "@" + r.version();
                try {
                    Versions.parse(r.version());
                    Versions.parse(r.minHearth());
                } catch (IllegalArgumentException e) {
                    throw new CatalogException(rat + ": " + e.getMessage());
                }
                checkFile(rat + ".manifest", r.manifest());
                if (r.images().isEmpty()) {
                    throw new CatalogException(rat + ".images: none, for any architecture");
                }
                for (Images images : r.images()) {
                    String iat = rat + ".images[" + images.arch() + "]";
                    if (!NAME.matcher(images.arch()).matches() || r.images().stream().filter(i -> i.arch().equals(images.arch())).count() > 1) {
                        throw new CatalogException(iat + ": an architecture named once, in lower-case letters and digits");
                    }
                    checkFile(iat + ".archive", images.archive());
                    for (Image image : images.contents()) {
                        if (image.id() == null || !image.id().matches("sha256:[0-9a-f]{64}") || image.ref() == null) {
                            throw new CatalogException(iat + ": " + image.ref() + " needs an id sha256:HEX");
                        }
                    }
                }
            }
        }
    }

    private static void checkFile(String at, FileRef f) throws CatalogException {
        if (f == null || f.path() == null || !PATH.matcher(f.path()).matches() || f.path().contains("..")) {
            throw new CatalogException(at + ": a relative path without .. is needed, not " + (f == null ? null : f.path()));
        }
        if (f.sha256() == null || !SHA256.matcher(f.sha256()).matches() || f.size() < 0) {
            throw new CatalogException(at + ": sha256 (64 hex digits) and size are needed");
        }
    }
}
