package org.hearth.core.volume;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the encrypted backends share: a volume is one file in {@code root} (the backing file)
 * mounted at {@code root/VOLUME}, whose {@code data} folder belongs to the images' user and is
 * what the app's containers mount.
 */
abstract class FileBackedVolumes implements VolumeBackend {

    /** How long a closed volume's file may stay in the kernel's hands (a container still stopping). */
    protected static final Duration RELEASE_WAIT = Duration.ofSeconds(30);

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
        return mountInfo().stream().anyMatch(m -> m.point().equals(mountpoint(volume).toString()));
    }

    protected void mount(String device, String volume) throws IOException {
        Files.createDirectories(mountpoint(volume));
        shareRoot();
        SystemTool.run("mount", "-t", "ext4", "-o", "nosuid,nodev,noexec", device, mountpoint(volume).toString());
    }

    /**
     * e2fsck before a resize: exit 0 is clean, 1 is errors it corrected (a journal replayed, which
     * a volume closed after a crash has); anything else stops the grow.
     */
    protected static void checkFilesystem(String target) throws IOException {
        SystemTool.Result r = SystemTool.attempt(new byte[0], "e2fsck", "-f", "-p", target);
        if (r.exitCode() > 1) {
            throw new IOException("e2fsck -f -p " + target + " failed (exit " + r.exitCode() + "): " + r.output().strip());
        }
    }

    /** One line of /proc/self/mountinfo: the mount point, and whether it propagates (a "shared:N" field). */
    private record Mount(String point, boolean shared) {
    }

    private static List<Mount> mountInfo() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")).map(f -> {
                boolean shared = false;
                for (int i = 6; i < f.length && !f[i].equals("-"); i++) {
                    shared |= f[i].startsWith("shared:");
                }
                return new Mount(f[4], shared);
            }).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private boolean anyVolumeMounted() {
        String under = root + "/";
        return mountInfo().stream().anyMatch(m -> m.point().startsWith(under));
    }

    /**
     * Volumes are mounted under a shared mount of their own root (the root bind-mounted onto
     * itself). A mount namespace copied from this one as a slave ({@code ip netns exec}: the
     * overlay's helpers, the tests' servers) then loses a volume when it is unmounted here. Under a
     * private parent (as "/" is on hosts without systemd) the copy kept the closed volume's file
     * system, and its loop device, for as long as that namespace lived, and the volume could not be
     * grown. Not done over volumes already mounted: a bind over them would hide them.
     */
    private void shareRoot() throws IOException {
        java.util.Optional<Mount> own = mountInfo().stream().filter(m -> m.point().equals(root.toString())).reduce((a, b) -> b);
        if (own.map(Mount::shared).orElse(false) || anyVolumeMounted()) {
            return;
        }
        if (own.isEmpty()) {
            SystemTool.run("mount", "--bind", root.toString(), root.toString());
        }
        SystemTool.run("mount", "--make-rshared", root.toString());
    }

    /**
     * Once no volume is mounted, the root's own mount goes too: closed means nothing left mounted.
     * A closed volume's loop device may still hold its file (on this mount) for a moment: the kernel
     * detaches an auto-clearing loop device in the background, and only once a stopping container's
     * copy of the file system is gone; until then the mount is busy ("hearth lock" failed so in a
     * test run), so this waits for them first.
     */
    protected void releaseRoot() throws IOException {
        if (anyVolumeMounted() || mountInfo().stream().noneMatch(m -> m.point().equals(root.toString()))) {
            return;
        }
        long deadline = System.nanoTime() + RELEASE_WAIT.toNanos();
        List<String> attached;
        while (!(attached = attachedFiles()).isEmpty()) {
            if (System.nanoTime() - deadline > 0) {
                List<String> holders = holders();
                throw new IOException(String.join(", ", attached) + " still attached to loop devices "
                        + RELEASE_WAIT.toSeconds() + " s after the volumes closed"
                        + (holders.isEmpty() ? " (mounted in no other namespace: the kernel still releasing them?)"
                        : ", still mounted in the mount namespace of " + String.join(", ", holders)) + "; try again");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the volumes' loop devices to let go", e);
            }
        }
        SystemTool.run("umount", root.toString());
    }

    /**
     * The processes (one per mount namespace) in whose namespace a volume here is still mounted: a
     * copy of the host's made while it was open that does not follow the host's unmounts. Each
     * namespace's table is read from inside it (nsenter): /proc/PID/mountinfo leaves out what a
     * chrooted process cannot reach, and an image build's processes are all chrooted.
     */
    private List<String> holders() {
        String under = root + "/";
        List<String> found = new ArrayList<>();
        try (Stream<Path> listed = Files.list(Path.of("/proc"))) {
            Set<String> seen = new HashSet<>(Set.of(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString()));
            for (Path proc : listed.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (!seen.add(Files.readSymbolicLink(proc.resolve("ns/mnt")).toString())) {
                        continue;
                    }
                    SystemTool.Result table = SystemTool.attempt(new byte[0], "nsenter", "--mount=" + proc.resolve("ns/mnt"),
                            "cat", "/proc/self/mountinfo");
                    if (table.exitCode() == 0 && table.output().lines().map(l -> l.split(" "))
                            .anyMatch(f -> f.length > 4 && f[4].startsWith(under))) {
                        found.add("pid " + proc.getFileName() + " ("
                                + Files.readString(proc.resolve("comm"), StandardCharsets.ISO_8859_1).strip() + ")");
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return found;
        }
        return found;
    }

    /** The volume files here that a loop device holds. */
    private List<String> attachedFiles() throws IOException {
        String under = root + "/";
        return SystemTool.run("losetup", "--list", "--noheadings", "--output", "BACK-FILE").lines()
                .map(String::strip).filter(f -> f.startsWith(under)).toList();
    }
}
