package org.hearth.core.volume;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What the encrypted backends share: a volume is one file in {@code root} (the backing file)
 * mounted at {@code root/VOLUME}, whose {@code data} folder belongs to the images' user and is
 * what the app's containers mount.
 */
abstract class FileBackedVolumes implements VolumeBackend {

    protected final Path root;
    private final int uid;
    private final int gid;

    FileBackedVolumes(Path root, int uid, int gid) {
        this.root = root.toAbsolutePath().normalize();
        this.uid = uid;
        this.gid = gid;
    }

    protected Path mountpoint(String volume) {
        return root.resolve(volume);
    }

    @Override
    public Path dataFolder(String volume) {
        return mountpoint(volume).resolve("data");
    }

    @Override
    public boolean exists(String volume) {
        return Files.exists(backingFile(volume));
    }

    @Override
    public void destroy(String volume) throws IOException {
        close(volume);
        Files.deleteIfExists(backingFile(volume));
        if (Files.isDirectory(mountpoint(volume))) {
            Files.delete(mountpoint(volume));
        }
    }

    /** A new sparse backing file only root may read. */
    protected static void allocate(Path file, long sizeBytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(sizeBytes);
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    /** Enlarges a closed volume's file; the backend then grows what is inside. */
    protected void enlarge(String volume, long sizeBytes) throws IOException {
        Path file = backingFile(volume);
        if (!exists(volume)) {
            throw missing(volume);
        }
        if (mounted(volume)) {
            throw new IOException("volume " + volume + " is open; close it before growing it");
        }
        long current = Files.size(file);
        if (sizeBytes < current) {
            throw new IOException("volume " + volume + " is " + current + " bytes; shrinking to " + sizeBytes
                    + " is not supported");
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(sizeBytes);
        }
    }

    /** Hands the new data folder to the images' user, closed to everyone else. */
    protected void ownDataFolder(Path data) throws IOException {
        Files.setAttribute(data, "unix:uid", uid);
        Files.setAttribute(data, "unix:gid", gid);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    }

    /** Runs the rest of a create; on any failure removes what was made, so no half volume is left. */
    protected Path createOrClean(String volume, Creation creation) throws IOException {
        if (exists(volume)) {
            throw new IOException("volume " + volume + " already exists at " + backingFile(volume));
        }
        Files.createDirectories(root);
        try {
            return creation.run();
        } catch (IOException | RuntimeException e) {
            try {
                destroy(volume);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    protected interface Creation {
        Path run() throws IOException;
    }

    protected IOException missing(String volume) {
        return new IOException("volume " + volume + ": its file " + backingFile(volume) + " is missing");
    }

    protected boolean mounted(String volume) {
        String target = " " + mountpoint(volume) + " ";
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(target));
        } catch (IOException e) {
            return false;
        }
    }

    protected void mount(String device, String volume) throws IOException {
        Files.createDirectories(mountpoint(volume));
        SystemTool.run("mount", "-t", "ext4", "-o", "nosuid,nodev,noexec", device, mountpoint(volume).toString());
    }
}
