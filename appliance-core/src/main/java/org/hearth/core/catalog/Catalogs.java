package org.hearth.core.catalog;

import org.hearth.core.OwnerOnlyFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The catalogs this box knows: refreshed from their sources and kept, verified, in the state folder
 * ({@code catalog/NAME/}). What the box holds is checked again each time it is read (signature and
 * expiry), and a refresh that fails verification leaves the held index as it was.
 */
public final class Catalogs {

    static final long INDEX_LIMIT = 4 << 20;
    static final long SIGNATURE_LIMIT = 64 << 10;
    static final long ICON_LIMIT = 64 << 10;
    static final String INDEX = "index.json";
    static final String SIGNATURE = "index.json.sig";
    static final String KEYS = "keys.json";
    /** When the box last asked the source (whatever the answer), for {@link #refreshIfOlderThan}. */
    static final String CHECKED = "checked";

    private final CatalogConfig config;
    private final Path folder;
    private final Clock clock;
    private final String arch;

    /** @param arch this box's architecture (Debian's name): it installs only releases with images for it */
    public Catalogs(CatalogConfig config, Path folder, Clock clock, String arch) {
        this.config = config;
        this.folder = folder;
        this.clock = clock;
        this.arch = arch;
    }

    /** A held catalog, or why the box holds none that it may use. */
    public record Held(CatalogConfig.Source source, Optional<CatalogIndex> index, Optional<String> problem) {
    }

    /** What a refresh did: the version held before and after, or why it failed. */
    public record Refreshed(CatalogConfig.Source source, long before, long after, Optional<String> problem) {
    }

    /** An app's release found in a held catalog. */
    public record Found(CatalogConfig.Source source, CatalogIndex index, CatalogIndex.App app, CatalogIndex.Release release) {
    }

    public List<CatalogConfig.Source> sources() {
        return config.sources();
    }

    public List<Refreshed> refresh() {
        return config.sources().stream().map(this::refreshAndRecord).toList();
    }

    /**
     * Refreshes each source not checked within {@code maxAge}: the owner app asks each time it lists
     * apps, so it shows new releases, and a catalog server sees at most one fetch per box per {@code maxAge}.
     */
    public List<Refreshed> refreshIfOlderThan(Duration maxAge) {
        return config.sources().stream().filter(s -> lastChecked(s).map(t -> t.plus(maxAge).isBefore(clock.instant())).orElse(true))
                .map(this::refreshAndRecord).toList();
    }

    private Refreshed refreshAndRecord(CatalogConfig.Source source) {
        long before = held(source).index().map(CatalogIndex::version).orElse(0L);
        Refreshed result;
        try {
            result = new Refreshed(source, before, refresh(source), Optional.empty());
        } catch (CatalogException e) {
            result = new Refreshed(source, before, before, Optional.of(e.getMessage()));
        }
        try {
            Path dir = Files.createDirectories(folder.resolve(source.name()));
            OwnerOnlyFile.write(dir.resolve(CHECKED), clock.instant().toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep catalog " + source.name() + " in " + folder, e);
        }
        return result;
    }

    private Optional<Instant> lastChecked(CatalogConfig.Source source) {
        return readStored(source, CHECKED).flatMap(b -> {
            try {
                return Optional.of(Instant.parse(new String(b, StandardCharsets.UTF_8).strip()));
            } catch (java.time.format.DateTimeParseException e) {
                return Optional.empty();
            }
        });
    }

    public List<Held> held() {
        return config.sources().stream().map(this::held).toList();
    }

    public String arch() {
        return arch;
    }

    /**
     * The release of {@code app} ({@code version}, or the newest for this box's architecture), from
     * the first source that lists the app with a release for it in the index the box holds; a
     * source never fetched is fetched first.
     */
    public Found find(String app, Optional<String> version) throws CatalogException {
        if (config.sources().isEmpty()) {
            throw new CatalogException("no catalog is configured (appliance.yaml catalog.sources); "
                    + "to install from a manifest during development, give its path: manifests/" + app + "/app.yaml");
        }
        List<String> problems = new ArrayList<>();
        for (CatalogConfig.Source source : config.sources()) {
            if (!Files.exists(stored(source, INDEX))) {
                try {
                    refresh(source);
                } catch (CatalogException e) {
                    problems.add(source.name() + ": " + e.getMessage());
                    continue;
                }
            }
            Held held = held(source);
            if (held.index().isEmpty()) {
                problems.add(source.name() + ": " + held.problem().orElse("no index"));
                continue;
            }
            Optional<CatalogIndex.App> listed = held.index().get().app(app);
            if (listed.isEmpty()) {
                continue;
            }
            Optional<CatalogIndex.Release> release = version.isPresent() ? listed.get().release(version.get())
                    : listed.get().latestFor(arch);
            if (release.isEmpty() && version.isEmpty()) {
                problems.add(source.name() + " lists " + app + " for " + String.join(", ", listed.get().releases().stream()
                        .flatMap(r -> r.arches().stream()).distinct().sorted().toList()) + " only, not " + arch);
                continue;
            }
            if (release.isEmpty()) {
                throw new CatalogException("catalog " + source.name() + " has no " + app + " " + version.get()
                        + " (it has " + listed.get().releases().stream().map(CatalogIndex.Release::version).toList() + ")");
            }
            return new Found(source, held.index().get(), listed.get(), release.get());
        }
        throw new CatalogException("no catalog lists an app " + app + " for " + arch
                + (problems.isEmpty() ? "" : "; " + String.join("; ", problems)) + " (hearth catalog list)");
    }

    /**
     * An app's icon, checked against the digest its held index gives; kept by that digest under
     * {@code catalog/icons/}, so each is fetched once. Empty when the app has none or it fails its check.
     */
    public Optional<byte[]> icon(CatalogConfig.Source source, CatalogIndex.App app) {
        if (app.icon().isEmpty()) {
            return Optional.empty();
        }
        CatalogIndex.FileRef ref = app.icon().get();
        Path kept = folder.resolve("icons").resolve(ref.sha256() + ".svg");
        try {
            if (Files.exists(kept)) {
                return Optional.of(Files.readAllBytes(kept));
            }
            byte[] bytes = source.open().require(ref.path(), Math.min(ref.size(), ICON_LIMIT));
            if (!IndexTrust.sha256(bytes).equals(ref.sha256())) {
                return Optional.empty();
            }
            Files.createDirectories(kept.getParent());
            OwnerOnlyFile.write(kept, bytes);
            return Optional.of(bytes);
        } catch (CatalogException | IOException e) {
            return Optional.empty();
        }
    }

    /** Fetches and verifies one source's index, keeps it if it is newer, and returns the version held. */
    long refresh(CatalogConfig.Source source) throws CatalogException {
        CatalogSource from = source.open();
        byte[] index = from.require(INDEX, INDEX_LIMIT);
        byte[] signature = from.require(SIGNATURE, SIGNATURE_LIMIT);
        List<IndexTrust.SignedRollover> rollovers = new ArrayList<>(storedRollovers(source));
        for (IndexTrust.SignedRollover r : readRollovers(from.read(KEYS, INDEX_LIMIT), KEYS + " from " + from.describe())) {
            if (!rollovers.contains(r)) {
                rollovers.add(r);
            }
        }
        Set<CatalogKey.Public> trusted = IndexTrust.trustedKeys(source.name(), source.keys(), rollovers);
        CatalogIndex offered = IndexTrust.verify(source.name(), index, signature, trusted, clock.instant());
        Optional<byte[]> heldBytes = readStored(source, INDEX);
        Optional<CatalogIndex> held = heldBytes.flatMap(Catalogs::parseHeld);
        if (held.isPresent()) {
            IndexTrust.notReplayed(held.get(), heldBytes.get(), offered, index);
            if (held.get().version() == offered.version()) {
                return offered.version();
            }
        }
        try {
            Path dir = Files.createDirectories(folder.resolve(source.name()));
            OwnerOnlyFile.write(dir.resolve(KEYS), CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.RolloverFile(rollovers)));
            OwnerOnlyFile.write(dir.resolve(SIGNATURE), signature);
            OwnerOnlyFile.write(dir.resolve(INDEX), index);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep catalog " + source.name() + " in " + folder, e);
        }
        return offered.version();
    }

    /** The held index as it is, unverified: only its version matters here, and a damaged copy is replaced by a verified offer. */
    private static Optional<CatalogIndex> parseHeld(byte[] bytes) {
        try {
            return Optional.of(CatalogIndex.parse(INDEX, bytes));
        } catch (CatalogException damaged) {
            return Optional.empty();
        }
    }

    Held held(CatalogConfig.Source source) {
        Optional<byte[]> index = readStored(source, INDEX);
        Optional<byte[]> signature = readStored(source, SIGNATURE);
        if (index.isEmpty() || signature.isEmpty()) {
            return new Held(source, Optional.empty(), Optional.of("not fetched yet (hearth catalog refresh)"));
        }
        try {
            Set<CatalogKey.Public> trusted = IndexTrust.trustedKeys(source.name(), source.keys(), storedRollovers(source));
            return new Held(source, Optional.of(IndexTrust.verify(source.name(), index.get(), signature.get(), trusted,
                    clock.instant())), Optional.empty());
        } catch (CatalogException e) {
            return new Held(source, Optional.empty(), Optional.of(e.getMessage() + " (hearth catalog refresh)"));
        }
    }

    private List<IndexTrust.SignedRollover> storedRollovers(CatalogConfig.Source source) {
        try {
            return readRollovers(readStored(source, KEYS), stored(source, KEYS).toString());
        } catch (CatalogException e) {
            return List.of();
        }
    }

    private static List<IndexTrust.SignedRollover> readRollovers(Optional<byte[]> bytes, String where) throws CatalogException {
        if (bytes.isEmpty()) {
            return List.of();
        }
        try {
            return CatalogIndex.JSON.readValue(bytes.get(), IndexTrust.RolloverFile.class).rollovers();
        } catch (IOException e) {
            throw new CatalogException(where + ": not a key rollover file: " + e.getMessage());
        }
    }

    private Path stored(CatalogConfig.Source source, String file) {
        return folder.resolve(source.name()).resolve(file);
    }

    private Optional<byte[]> readStored(CatalogConfig.Source source, String file) {
        try {
            return Optional.of(Files.readAllBytes(stored(source, file)));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + stored(source, file), e);
        }
    }
}
