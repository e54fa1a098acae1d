package org.hearth.core.image;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Assembles a disk image from a boot folder and a root folder with no loop device and no FAT mount
 * (this build machine's kernel has neither partition scanning nor vfat): an MBR by sfdisk on the
 * file, the FAT partition made by mkfs.vfat and filled by mcopy, the ext4 one made from the folder by
 * mkfs.ext4 -d, each written into place with dd. The whole image is a power of two in size, so it
 * fits any card of that size and the emulated Pi 3 takes it as its SD card.
 */
final class DiskImage {

    private static final long MIB = 1 << 20;
    /** The root's room beyond its files: the journal, inodes, and the first apt update before the first boot grows it. */
    private static final double ROOM = 1.15;
    private static final long SPARE_MIB = 256;

    private DiskImage() {
    }

    static void assemble(Path root, Path boot, Path out, Path work, BuildSteps steps) throws IOException {
        long rootMib = (long) Math.ceil(used(root) * ROOM / MIB) + SPARE_MIB;
        long totalMib = Long.highestOneBit(SdImage.FIRST_MIB + SdImage.BOOT_MIB + rootMib - 1) << 1;
        long rootStart = SdImage.FIRST_MIB + SdImage.BOOT_MIB;
        rootMib = totalMib - rootStart;
        steps.progress("assembling " + out.getFileName() + ": " + totalMib + " MiB (boot " + SdImage.BOOT_MIB
                + " MiB, root " + rootMib + " MiB)");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        try (RandomAccessFile file = new RandomAccessFile(partial.toFile(), "rw")) {
            file.setLength(totalMib * MIB);   // sparse: only what is written takes room
        }
        String table = "label: dos\nlabel-id: 0x48454152\nunit: sectors\n\n"
                + "start=" + SdImage.FIRST_MIB * 2048 + ", size=" + SdImage.BOOT_MIB * 2048 + ", type=c, bootable\n"
                + "start=" + rootStart * 2048 + ", type=83\n";
        SystemTool.Result sfdisk = SystemTool.attempt(Duration.ofMinutes(1), Map.of(),
                table.getBytes(StandardCharsets.UTF_8), steps.locate("sfdisk"), "--quiet", partial.toString());
        if (sfdisk.exitCode() != 0) {
            throw new ImageBuildException(steps.step + ": sfdisk exited with " + sfdisk.exitCode() + ": " + sfdisk.output());
        }

        Path bootImage = work.resolve("boot.img");
        steps.run(List.of("mkfs.vfat", "-C", "-F", "32", "-n", "HEARTH-BOOT", "-i", "48454152", bootImage.toString(),
                String.valueOf(SdImage.BOOT_MIB * 1024)), line -> Optional.empty());
        List<String> copy = new ArrayList<>(List.of("env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-s", "-i", bootImage.toString()));
        try (Stream<Path> entries = Files.list(boot)) {
            entries.sorted().forEach(p -> copy.add(p.toString()));
        }
        copy.add("::/");
        steps.run(copy, line -> Optional.empty());
        writeAt(bootImage, partial, SdImage.FIRST_MIB, steps);
        Files.delete(bootImage);

        Path rootImage = work.resolve("root.img");
        steps.run(List.of("mkfs.ext4", "-q", "-F", "-L", "hearth-root", "-d", root.toString(), rootImage.toString(),
                rootMib + "M"), line -> Optional.empty());
        writeAt(rootImage, partial, rootStart, steps);
        Files.delete(rootImage);
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writeAt(Path part, Path disk, long startMib, BuildSteps steps) throws IOException {
        steps.run(List.of("dd", "if=" + part, "of=" + disk, "bs=1M", "seek=" + startMib, "conv=notrunc,sparse",
                "status=none"), line -> Optional.empty());
    }

    /** The folder's size on an ext4 of 4 KiB blocks: each file rounded up to a block, a block per folder and link. */
    static long used(Path root) throws IOException {
        long[] total = {0};
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(p -> {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    total[0] += a.isRegularFile() ? (a.size() + 4095) / 4096 * 4096 : 4096;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return total[0];
    }
}
