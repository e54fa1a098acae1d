package org.hearth.core.volume;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The kernel's ext4/fscrypt interface (linux/fscrypt.h, policy version 2), called directly so a
 * volume key goes from this process's memory into the filesystem's keyring and nowhere else:
 * no helper program, no key file, no command-line argument.
 */
final class Fscrypt {

    /** FS_IOC_ADD_ENCRYPTION_KEY = _IOWR('f', 23, struct fscrypt_add_key_arg [80 bytes]). */
    private static final long ADD_KEY = 0xC0506617L;
    /** FS_IOC_REMOVE_ENCRYPTION_KEY = _IOWR('f', 24, struct fscrypt_remove_key_arg [64 bytes]). */
    private static final long REMOVE_KEY = 0xC0406618L;
    /** FS_IOC_GET_ENCRYPTION_KEY_STATUS = _IOWR('f', 26, struct fscrypt_get_key_status_arg [128 bytes]). */
    private static final long KEY_STATUS = 0xC080661AL;
    /** FS_IOC_SET_ENCRYPTION_POLICY = _IOR('f', 19, struct fscrypt_policy_v1 [12 bytes]); takes a v2 policy too. */
    private static final long SET_POLICY = 0x800C6613L;
    /** FS_IOC_GET_ENCRYPTION_POLICY_EX = _IOWR('f', 22, __u8[9]). */
    private static final long GET_POLICY_EX = 0xC0096616L;

    private static final int KEY_SPEC_TYPE_IDENTIFIER = 2;
    private static final int POLICY_V2 = 2;
    private static final int MODE_AES_256_XTS = 1;
    private static final int MODE_AES_256_CTS = 4;
    private static final int FLAGS_PAD_32 = 0x03;
    static final int KEY_STATUS_PRESENT = 2;
    /** A v2 master key of 64 bytes, enough for AES-256-XTS contents keys. */
    static final int KEY_BYTES = 64;
    static final int IDENTIFIER_BYTES = 16;

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int open(String path, int flags) throws LastErrorException;

        int close(int fd);

        int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;
    }

    private Fscrypt() {
    }

    /** Adds a v2 key to the filesystem mounted at {@code mountpoint}; returns its identifier. */
    static byte[] addKey(Path mountpoint, byte[] key) throws IOException {
        try (Memory arg = new Memory(80 + key.length)) {
            arg.clear();
            arg.setInt(0, KEY_SPEC_TYPE_IDENTIFIER);
            arg.setInt(40, key.length);
            arg.write(80, key, 0, key.length);
            try {
                ioctl(mountpoint, ADD_KEY, arg, "add the volume key");
                return arg.getByteArray(8, IDENTIFIER_BYTES);
            } finally {
                arg.clear();
            }
        }
    }

    /** Removes the key: its files' cached plaintext is evicted and they read as ciphertext from now on. */
    static void removeKey(Path mountpoint, byte[] identifier) throws IOException {
        try (Memory arg = new Memory(64)) {
            arg.clear();
            arg.setInt(0, KEY_SPEC_TYPE_IDENTIFIER);
            arg.write(8, identifier, 0, IDENTIFIER_BYTES);
            ioctl(mountpoint, REMOVE_KEY, arg, "remove the volume key");
        }
    }

    static int keyStatus(Path mountpoint, byte[] identifier) throws IOException {
        try (Memory arg = new Memory(128)) {
            arg.clear();
            arg.setInt(0, KEY_SPEC_TYPE_IDENTIFIER);
            arg.write(8, identifier, 0, IDENTIFIER_BYTES);
            ioctl(mountpoint, KEY_STATUS, arg, "read the volume key's status");
            return arg.getInt(64);
        }
    }

    /** Encrypts the (empty) directory {@code dir} and everything created in it under the key {@code identifier}. */
    static void setPolicy(Path dir, byte[] identifier) throws IOException {
        try (Memory policy = new Memory(24)) {
            policy.clear();
            policy.setByte(0, (byte) POLICY_V2);
            policy.setByte(1, (byte) MODE_AES_256_XTS);
            policy.setByte(2, (byte) MODE_AES_256_CTS);
            policy.setByte(3, (byte) FLAGS_PAD_32);
            policy.write(8, identifier, 0, IDENTIFIER_BYTES);
            ioctl(dir, SET_POLICY, policy, "encrypt the folder");
        }
    }

    /** The identifier of the key that {@code dir}'s v2 policy names. */
    static byte[] policyKey(Path dir) throws IOException {
        try (Memory arg = new Memory(8 + 24)) {
            arg.clear();
            arg.setLong(0, 24);
            ioctl(dir, GET_POLICY_EX, arg, "read the folder's encryption policy");
            if (arg.getByte(8) != POLICY_V2) {
                throw new IOException(dir + " has a version " + arg.getByte(8) + " encryption policy, not 2");
            }
            return arg.getByteArray(16, IDENTIFIER_BYTES);
        }
    }

    private static void ioctl(Path path, long request, Pointer arg, String what) throws IOException {
        int fd;
        try {
            fd = LibC.INSTANCE.open(path.toString(), 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + path + " to " + what + ": " + errno(e), e);
        }
        try {
            LibC.INSTANCE.ioctl(fd, new NativeLong(request), arg);
        } catch (LastErrorException e) {
            throw new IOException("cannot " + what + " on " + path + ": " + errno(e), e);
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    private static String errno(LastErrorException e) {
        return switch (e.getErrorCode()) {
            case 1 -> "operation not permitted (EPERM: needs root)";
            case 2 -> "no such file (ENOENT)";
            case 22 -> "invalid argument (EINVAL)";
            case 61 -> "no such key or policy (ENODATA)";
            case 95 -> "encryption not supported here (EOPNOTSUPP: is the ext4 'encrypt' feature on?)";
            case 39 -> "the folder is not empty (ENOTEMPTY)";
            case 17 -> "a different policy is already set (EEXIST)";
            default -> "errno " + e.getErrorCode();
        };
    }
}
