package org.hearth.core.volume;

import org.hearth.core.SystemTool;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The LUKS2 backend with Debian's cryptsetup. Header creation and key slots are checked on every
 * machine; opening, mkfs and mounting need device-mapper, which this build machine's kernel does
 * not have: there a create is proven to fail cleanly and the round trip is reported as skipped
 * with the reason. Where device-mapper exists, the full round trip runs instead.
 */
class LuksVolumesTest {

    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void cryptsetupAsRoot() {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/cryptsetup")),
                "needs root and cryptsetup (scripts/test installs cryptsetup-bin and runs as root)");
    }

    @Test
    void theHeaderIsLuks2WithOneSlotForTheVolumeKeyAndNoOtherKeyOpensIt() throws Exception {
        Path file = dir.resolve("v.luks");
        byte[] key = random();

        LuksVolumes.format(file, SIZE, key);

        String dump = SystemTool.run("cryptsetup", "luksDump", file.toString());
        assertThat(dump).contains("Version:       \t2").contains("aes-xts-plain64").contains("PBKDF:      pbkdf2");
        assertThat(dump).containsPattern("(?m)^  0: luks2").doesNotContainPattern("(?m)^  1: luks2");
        assertThat(dump).containsPattern("Cipher key:\\s+512 bits");
        // The key opens slot 0 and a different key does not (checked without device-mapper).
        SystemTool.run(key, "cryptsetup", "open", "--test-passphrase", "--key-file", "-", file.toString());
        assertThatThrownBy(() -> SystemTool.run(random(), "cryptsetup", "open", "--test-passphrase", "--key-file", "-",
                file.toString())).hasMessageContaining("No key available");
        assertThat(Files.getPosixFilePermissions(file)).hasSize(2);
    }

    @Test
    void aCreateWithoutDeviceMapperFailsCleanlyAndLeavesNoVolumeFile() throws Exception {
        assumeFalse(LuksVolumes.available(), "device-mapper exists here: the full round trip runs instead");
        LuksVolumes volumes = new LuksVolumes(dir.resolve("volumes"), 10001, 10001);

        assertThatThrownBy(() -> volumes.create("mail-data", SIZE, random())).hasMessageContaining("cryptsetup open");
        assertThat(volumes.exists("mail-data")).as("a failed create leaves no volume file").isFalse();
    }

    @Test
    void aVolumeOpensOnlyWithItsKeyAndKeepsItsDataAcrossCloseAndGrow() throws Exception {
        assumeTrue(LuksVolumes.available(), "NOT TESTED: open, mkfs, mount, close and grow of a LUKS2 volume need"
                + " the kernel's device-mapper, which this kernel lacks (/proc/misc has no device-mapper)");
        LuksVolumes volumes = new LuksVolumes(dir.resolve("volumes"), 10001, 10001);
        byte[] key = random();

        Path data = volumes.create("mail-data", SIZE, key);
        Files.writeString(data.resolve("kept.txt"), "still here");
        volumes.close("mail-data");
        assertThat(volumes.isOpen("mail-data")).isFalse();
        assertThatThrownBy(() -> volumes.open("mail-data", random())).hasMessageContaining("did not open");
        volumes.grow("mail-data", 2 * SIZE, key);
        assertThat(Files.readString(volumes.open("mail-data", key).resolve("kept.txt"))).isEqualTo("still here");
        volumes.destroy("mail-data");
    }

    private static byte[] random() {
        byte[] key = new byte[LuksVolumes.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        return key;
    }
}
