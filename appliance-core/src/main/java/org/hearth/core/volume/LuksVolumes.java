package org.hearth.core.volume;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The appliance's volumes: each a LUKS2 container (dm-crypt, AES-256-XTS) in its own file,
 * holding an ext4 filesystem, opened as {@code /dev/mapper/hearth-VOLUME} and mounted
 * nosuid,nodev,noexec. Unlike fscrypt it hides sizes, names, timestamps and the folder tree.
 * The key slot holds the volume's random 64-byte key from the vault, fed to cryptsetup on stdin;
 * that key is already full-entropy, so the slot uses PBKDF2 at its minimum cost instead of a
 * second memory-hard derivation (the owner's passphrase is stretched once, by the vault).
 */
public final class LuksVolumes extends FileBackedVolumes {

    static final int KEY_BYTES = 64;

    public LuksVolumes(Path root, int uid, int gid) {
        super(root, uid, gid);
    }

    /**
     * Whether this kernel and host can open LUKS2 volumes: the kernel's device-mapper (in
     * /proc/misc; /dev/mapper/control proves nothing, cryptsetup creates it regardless) and cryptsetup.
     */
    public static boolean available() {
        try {
            return Files.readString(Path.of("/proc/misc")).contains("device-mapper")
                    && Files.isExecutable(Path.of("/usr/sbin/cryptsetup"));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String name() {
        return "luks2";
    }

    @Override
    public boolean encrypted() {
        return true;
    }

    @Override
    public int keyBytes() {
        return KEY_BYTES;
    }

    @Override
    public Path backingFile(String volume) {
        return root.resolve(volume + ".luks");
    }

    /**
     * Host-wide: a second Hearth instance with LUKS volumes of the same name on one host would be
     * refused by cryptsetup. Not made per instance, since volumes stay open across an upgrade and
     * must be found again under the name they were opened with.
     */
    private static String mapping(String volume) {
        return "hearth-" + volume;
    }

    private static Path mapped(String volume) {
        return Path.of("/dev/mapper", mapping(volume));
    }

    @Override
    public Path create(String volume, long sizeBytes, byte[] key) throws IOException {
        return createOrClean(volume, () -> {
            format(backingFile(volume), sizeBytes, key);
            openMapping(volume, key);
            SystemTool.run("mkfs.ext4", "-q", "-F", "-m", "0", mapped(volume).toString());
            mount(mapped(volume).toString(), volume);
            Path data = Files.createDirectory(dataFolder(volume));
            ownDataFolder(data);
            return data;
        });
    }

    /** Writes a LUKS2 header with one key slot for {@code key} into a new file of {@code sizeBytes}. */
    static void format(Path file, long sizeBytes, byte[] key) throws IOException {
        allocate(file, sizeBytes);
        SystemTool.run(key, "cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2",
                "--cipher", "aes-xts-plain64", "--key-size", "512", "--pbkdf", "pbkdf2",
                "--pbkdf-force-iterations", "1000", "--key-file", "-", file.toString());
    }

    @Override
    public Path open(String volume, byte[] key) throws IOException {
        if (!exists(volume)) {
            throw missing(volume);
        }
        if (!Files.exists(mapped(volume))) {
            try {
                openMapping(volume, key);
            } catch (IOException e) {
                throw new IOException("volume " + volume + " did not open (wrong key, damaged header, or no"
                        + " device-mapper); it was left unchanged: " + e.getMessage(), e);
            }
        }
        if (!mounted(volume)) {
            mount(mapped(volume).toString(), volume);
        }
        return dataFolder(volume);
    }

    private void openMapping(String volume, byte[] key) throws IOException {
        SystemTool.run(key, "cryptsetup", "open", "--type", "luks2", "--key-file", "-",
                backingFile(volume).toString(), mapping(volume));
    }

    @Override
    public boolean isOpen(String volume) {
        return Files.exists(mapped(volume)) && mounted(volume);
    }

    @Override
    public void close(String volume) throws IOException {
        if (mounted(volume)) {
            SystemTool.run("umount", mountpoint(volume).toString());
        }
        if (Files.exists(mapped(volume))) {
            SystemTool.run("cryptsetup", "close", mapping(volume));
        }
        releaseRoot();
    }

    /** Grows a closed volume: the file, then the LUKS mapping, then ext4 (opened briefly, not mounted). */
    @Override
    public void grow(String volume, long sizeBytes, byte[] key) throws IOException {
        enlarge(volume, sizeBytes);
        openMapping(volume, key);
        try {
            checkFilesystem(mapped(volume).toString());
            SystemTool.run("resize2fs", mapped(volume).toString());
        } finally {
            SystemTool.run("cryptsetup", "close", mapping(volume));
        }
    }
}
