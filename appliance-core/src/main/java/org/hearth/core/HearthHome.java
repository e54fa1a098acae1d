package org.hearth.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where Hearth's own files are: the installation (recipes, manifests, built jars) and the
 * state folder (engine log, supervisor state); builds' caches are the machine's ({@link #cacheDir}). The launcher passes the installation
 * as the {@code hearth.home} system property; the state folder defaults to {@code .state} inside it.
 */
public record HearthHome(Path root, Path state) {

    public static final String HOME_PROPERTY = "hearth.home";

    public HearthHome {
        root = root.toAbsolutePath().normalize();
        state = state.toAbsolutePath().normalize();
    }

    /** The installation named by {@code -Dhearth.home}, else the working directory. */
    public static HearthHome fromSystemProperty() {
        Path root = Path.of(System.getProperty(HOME_PROPERTY, "."));
        return new HearthHome(root, root.resolve(".state"));
    }

    public HearthHome withState(Path newState) {
        return new HearthHome(root, newState);
    }

    public Path imageRecipes() {
        return root.resolve("image-build").resolve("images");
    }

    public Path scripts() {
        return root.resolve("scripts");
    }

    /** A short stable id of this state folder, for {@code org.hearth.instance} labels. */
    public String instanceId() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(state.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Where {@link #cacheDir} keeps what builds download and make; a test may point it elsewhere. */
    public static final String CACHE_PROPERTY = "hearth.cache";

    /**
     * A sub-folder of the machine's cache for image builds ({@code /var/cache/hearth}, as apt keeps
     * {@code /var/cache/apt}), created if missing: every checkout and state folder on the machine
     * shares downloaded packages and the SD card's Debian layer (over a GiB), each kept by its inputs.
     */
    public static Path cacheDir(String name) {
        Path dir = Path.of(System.getProperty(CACHE_PROPERTY, "/var/cache/hearth")).toAbsolutePath().resolve(name);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create cache folder " + dir, e);
        }
        return dir;
    }

    /** A sub-folder of the state folder, created if missing. */
    public Path stateDir(String name) {
        Path dir = state.resolve(name);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create state folder " + dir, e);
        }
        return dir;
    }
}
