package org.hearth.core.supervisor;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.core.OwnerOnlyFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Upgrades under way, one file each in {@code upgrades/APP.json}, written before each step, so a
 * supervisor killed mid-upgrade finds on its next start what to undo: the manifest it came from and
 * how far it got.
 */
final class AppUpgrades {

    private static final ObjectMapper JSON = new ObjectMapper();

    enum Phase {
        /** The old version's volumes are being closed and copied aside; its manifest is still the installed one. */
        SNAPSHOT,
        /** The new version is installed and starting on the volumes; the snapshots hold the old data. */
        STARTED,
        /** The new version failed; the old manifest and data are being put back. */
        ROLLING_BACK
    }

    record Upgrade(String app, String fromText, String toText, String toVersion, Phase phase) {
        Upgrade at(Phase next) {
            return new Upgrade(app, fromText, toText, toVersion, next);
        }
    }

    private final Path dir;

    AppUpgrades(Path dir) {
        this.dir = dir;
    }

    void record(Upgrade upgrade) {
        try {
            Files.createDirectories(dir);
            OwnerOnlyFile.write(dir.resolve(upgrade.app() + ".json"), JSON.writeValueAsBytes(upgrade));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the upgrade of " + upgrade.app() + " in " + dir, e);
        }
    }

    Optional<Upgrade> of(String app) {
        Path file = dir.resolve(app + ".json");
        try {
            return Files.exists(file) ? Optional.of(JSON.readValue(file.toFile(), Upgrade.class)) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    List<Upgrade> unfinished() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted()
                    .map(f -> of(f.getFileName().toString().replaceFirst("\\.json$", "")).orElseThrow()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    void finished(String app) {
        try {
            Files.deleteIfExists(dir.resolve(app + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish the upgrade record of " + app, e);
        }
    }
}
