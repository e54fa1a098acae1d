package org.hearth.core.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Development only, behind {@code hearth up --insecure-plain-storage}: a volume is a plain
 * folder, readable by anyone who has the disk. No key, no lock; sizes are not enforced.
 */
public final class PlainVolumes extends FileBackedVolumes {

    public PlainVolumes(Path root, int uid, int gid) {
        super(root, uid, gid);
    }

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public boolean encrypted() {
        return false;
    }

    @Override
    public int keyBytes() {
        return 0;
    }

    /** The folder itself stands for the file the encrypted backends keep. */
    @Override
    public Path backingFile(String volume) {
        return mountpoint(volume);
    }

    @Override
    public Path create(String volume, long sizeBytes, byte[] key) throws IOException {
        return createOrClean(volume, () -> {
            Path data = Files.createDirectories(dataFolder(volume));
            ownDataFolder(data);
            return data;
        });
    }

    @Override
    public Path open(String volume, byte[] key) throws IOException {
        if (!Files.isDirectory(dataFolder(volume))) {
            throw missing(volume);
        }
        return dataFolder(volume);
    }

    @Override
    public boolean isOpen(String volume) {
        return Files.isDirectory(dataFolder(volume));
    }

    @Override
    public void close(String volume) {
        // nothing to lock
    }

    @Override
    public void grow(String volume, long sizeBytes, byte[] key) {
        // plain folders have no size of their own
    }

    @Override
    public void destroy(String volume) throws IOException {
        Path folder = mountpoint(volume);
        if (Files.exists(folder)) {
            try (var walk = Files.walk(folder)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
