package org.hearth.core.volume;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Volumes for kernels without device-mapper: each volume is an ext4 filesystem (with the
 * {@code encrypt} feature) in a sparse image file, attached to a loop device and mounted
 * nosuid,nodev,noexec; its {@code data} folder carries an fscrypt v2 policy (AES-256-XTS
 * contents, AES-256-CTS names) under the volume's own 64-byte key. With the key removed or the
 * filesystem unmounted, file contents and names are ciphertext on disk. What fscrypt leaves
 * visible: file sizes, timestamps and the folder tree's shape (LUKS2 hides those too).
 */
public final class FscryptVolumes extends FileBackedVolumes {

    /** How long a closed volume's file system may take to be released before it is grown. */

    /** Volumes live in {@code root}; their data folders belong to {@code uid}:{@code gid} (the images' user). */
    public FscryptVolumes(Path root, int uid, int gid) {
        super(root, uid, gid);
    }

    /** Whether this kernel and host can hold fscrypt volumes: ext4 encryption, loop devices, mkfs.ext4 and losetup. */
    public static boolean available() {
        return Files.exists(Path.of("/sys/fs/ext4/features/encryption")) && Files.exists(Path.of("/dev/loop-control"))
                && Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")) && Files.isExecutable(Path.of("/usr/sbin/losetup"));
    }

    @Override
    public String name() {
        return "fscrypt";
    }

    @Override
    public boolean encrypted() {
        return true;
    }

    @Override
    public int keyBytes() {
        return Fscrypt.KEY_BYTES;
    }

    @Override
    public Path backingFile(String volume) {
        return root.resolve(volume + ".img");
    }

    @Override
    public Path create(String volume, long sizeBytes, byte[] key) throws IOException {
        return createOrClean(volume, () -> {
            Path file = backingFile(volume);
            allocate(file, sizeBytes);
            SystemTool.run("mkfs.ext4", "-q", "-F", "-O", "encrypt", "-m", "0", file.toString());
            attachAndMount(volume);
            byte[] identifier = Fscrypt.addKey(mountpoint(volume), key);
            Path data = Files.createDirectory(dataFolder(volume));
            Fscrypt.setPolicy(data, identifier);
            ownDataFolder(data);
            return data;
        });
    }

    @Override
    public Path open(String volume, byte[] key) throws IOException {
        if (!exists(volume)) {
            throw missing(volume);
        }
        if (!mounted(volume)) {
            attachAndMount(volume);
        }
        Path mnt = mountpoint(volume);
        byte[] expected = Fscrypt.policyKey(dataFolder(volume));
        byte[] added = Fscrypt.addKey(mnt, key);
        if (!Arrays.equals(expected, added)) {
            Fscrypt.removeKey(mnt, added);
            close(volume);
            throw new IOException("volume " + volume + ": the key from the vault is not this volume's key"
                    + " (was the vault replaced?); the volume was left closed and unchanged");
        }
        return dataFolder(volume);
    }

    @Override
    public boolean isOpen(String volume) {
        if (!mounted(volume)) {
            return false;
        }
        try {
            Path mnt = mountpoint(volume);
            return Fscrypt.keyStatus(mnt, Fscrypt.policyKey(dataFolder(volume))) == Fscrypt.KEY_STATUS_PRESENT;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close(String volume) throws IOException {
        Path mnt = mountpoint(volume);
        if (mounted(volume)) {
            if (Files.isDirectory(dataFolder(volume))) {
                try {
                    Fscrypt.removeKey(mnt, Fscrypt.policyKey(dataFolder(volume)));
                } catch (IOException e) {
                    // no key was added since the mount: nothing to remove
                }
            }
            SystemTool.run("umount", mnt.toString());
        }
        Optional<String> device = loopDevice(volume);
        if (device.isPresent()) {
            SystemTool.run("losetup", "-d", device.get());
        }
        releaseRoot();
    }

    /** Grows a closed volume offline (e2fsck, resize2fs on the file); fscrypt needs no key for it. */
    @Override
    public void grow(String volume, long sizeBytes, byte[] key) throws IOException {
        enlarge(volume, sizeBytes);
        awaitReleased(volume);
        checkFilesystem(backingFile(volume).toString());
        SystemTool.run("resize2fs", backingFile(volume).toString());
    }

    private void attachAndMount(String volume) throws IOException {
        String device = loopDevice(volume).orElse(null);
        if (device == null) {
            device = SystemTool.run("losetup", "--find", "--show", backingFile(volume).toString()).strip();
        }
        try {
            mount(device, volume);
        } catch (IOException e) {
            SystemTool.run("losetup", "-d", device);
            throw e;
        }
    }

    /**
     * Until the kernel has let go of the volume's file system. Unmounted here, it may still be
     * mounted in the mount namespace of a container that is going away, which the kernel releases
     * after that container's last process, not always before {@link #close} returns; its loop
     * device stays attached until then (close's {@code losetup -d} only marks it), and checking
     * the file meanwhile would race the file system's last writes: e2fsck found a journal to
     * recover when two test classes stopped containers at once.
     */
    private void awaitReleased(String volume) throws IOException {
        long deadline = System.nanoTime() + RELEASE_WAIT.toNanos();
        while (loopDevice(volume).isPresent()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("volume " + volume + " is still in use: its file system is mounted somewhere"
                        + " (a container still stopping?) " + RELEASE_WAIT.toSeconds() + " s after it was closed; try again");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for volume " + volume + " to be released", e);
            }
        }
    }

    /** The loop device the volume's file is attached to, if any. */
    private Optional<String> loopDevice(String volume) throws IOException {
        String out = SystemTool.run("losetup", "-j", backingFile(volume).toString()).strip();
        return out.isEmpty() ? Optional.empty() : Optional.of(out.substring(0, out.indexOf(':')));
    }
}
