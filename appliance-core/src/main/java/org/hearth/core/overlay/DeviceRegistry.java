package org.hearth.core.overlay;

import org.hearth.core.OwnerOnlyFile;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A provider's list of the owner's devices, {@code devices.json} in a root-only folder. The CLI
 * changes it while the supervisor reads it: changes hold a file lock across processes, and each
 * write replaces the whole file at once.
 */
final class DeviceRegistry<T> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Path dir;
    private final JavaType listType;

    /** The file lock's partner within this process (see {@link #locked}). */
    private static final java.util.concurrent.locks.ReentrantLock IN_THIS_PROCESS = new java.util.concurrent.locks.ReentrantLock();

    DeviceRegistry(Path dir, Class<T> type) {
        this.dir = dir;
        this.listType = JSON.getTypeFactory().constructCollectionType(List.class, type);
    }

    Path dir() {
        return dir;
    }

    static void checkName(String name) {
        if (!name.matches("[a-z0-9][a-z0-9-]{0,30}")) {
            throw new IllegalArgumentException("device name \"" + name
                    + "\" must be lower-case letters, digits and dashes (at most 31), starting with a letter or digit");
        }
    }

    List<T> list() {
        Path file = dir.resolve("devices.json");
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            return JSON.readValue(file.toFile(), listType);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Call under {@link #locked}. */
    void write(List<T> devices) {
        try {
            OwnerOnlyFile.write(dir.resolve("devices.json"), JSON.writeValueAsString(devices));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("devices.json"), e);
        }
    }

    /**
     * Under the lock: the first device {@code match} picks, after {@code first} ran on it (if that
     * throws, the device is kept), removed from the list.
     */
    Optional<T> remove(Predicate<T> match, Consumer<T> first) {
        return locked(() -> {
            List<T> devices = new ArrayList<>(list());
            Optional<T> gone = devices.stream().filter(match).findFirst();
            gone.ifPresent(d -> {
                first.accept(d);
                devices.remove(d);
                write(devices);
            });
            return gone;
        });
    }

    /**
     * One writer at a time across processes (the CLI adds and removes while the supervisor reads) and
     * across threads: a file lock excludes other processes only, and a second thread of this one
     * asking for it gets an OverlappingFileLockException instead of waiting (the supervisor's pass
     * reading while its control socket adds a device).
     */
    <R> R locked(Supplier<R> work) {
        IN_THIS_PROCESS.lock();
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (FileChannel channel = FileChannel.open(dir.resolve("devices.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = channel.lock()) {
                return work.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir.resolve("devices.lock"), e);
        } finally {
            IN_THIS_PROCESS.unlock();
        }
    }
}
