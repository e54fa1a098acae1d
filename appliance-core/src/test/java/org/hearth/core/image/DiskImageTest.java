package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.SystemTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SD card's disk, assembled from two small folders with the real tools (sfdisk, mkfs.vfat,
 * mcopy, mkfs.ext4, dd) and read back with others (sfdisk --dump, mtools, debugfs) at the
 * partitions' places: what the Pi's firmware and kernel will find there.
 */
class DiskImageTest {

    @TempDir
    Path dir;

    @Test
    void theBootAndRootFoldersLandInTheirPartitionsOfAPowerOfTwoDisk() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root/etc"));
        Files.writeString(root.resolve("hostname"), "hearth\n");
        Path boot = Files.createDirectories(dir.resolve("boot/overlays"));
        Files.writeString(boot.resolveSibling("config.txt"), "arm_64bit=1\n");
        Files.writeString(boot.resolve("readme"), "an overlay\n");
        Path out = dir.resolve("out/card.img");
        HearthHome home = new HearthHome(dir.resolve("home"), dir.resolve("state"));
        BuildSteps steps = new BuildSteps(home, BuildTools.fromEnvironment(), line -> { }, "sd image (test)", dir.resolve("pi3.yaml"));

        DiskImage.assemble(dir.resolve("root"), dir.resolve("boot"), out, Files.createDirectories(dir.resolve("work")), steps);

        // 1 MiB before the boot partition's 256 and the root's 256 spare MiB: 513 MiB, to the next power of two.
        assertThat(Files.size(out)).isEqualTo(1024L << 20);
        String table = SystemTool.run("sfdisk", "--dump", out.toString());
        assertThat(table).contains("label: dos", "label-id: 0x48454152")
                .containsPattern("start=\\s*2048, size=\\s*524288, type=c, bootable")
                .containsPattern("start=\\s*526336, size=\\s*1570816, type=83");
        SystemTool.Result config = SystemTool.attempt(Duration.ofSeconds(30), Map.of("MTOOLS_SKIP_CHECK", "1"), new byte[0],
                "mtype", "-i", out + "@@1M", "::/config.txt");
        assertThat(config.output()).isEqualTo("arm_64bit=1\n");
        SystemTool.Result label = SystemTool.attempt(Duration.ofSeconds(30), Map.of("MTOOLS_SKIP_CHECK", "1"), new byte[0],
                "mlabel", "-s", "-i", out + "@@1M", "::");
        assertThat(label.output()).contains("HEARTH-BOOT");
        assertThat(SystemTool.attempt(Duration.ofSeconds(30), Map.of("MTOOLS_SKIP_CHECK", "1"), new byte[0],
                "mtype", "-i", out + "@@1M", "::/overlays/readme").output()).isEqualTo("an overlay\n");

        Path rootPart = dir.resolve("root.part");
        SystemTool.run("dd", "if=" + out, "of=" + rootPart, "bs=1M", "skip=257", "status=none");
        assertThat(SystemTool.run("debugfs", "-R", "cat /etc/hostname", rootPart.toString())).contains("hearth\n");
        assertThat(SystemTool.run("e2label", rootPart.toString()).strip()).isEqualTo("hearth-root");
        assertThat(Files.exists(out.resolveSibling("card.img.partial"))).isFalse();
    }
}
