package org.hearth.core.volume;

import org.hearth.core.MountNamespace;
import org.hearth.core.SystemTool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fscrypt backend on real loop devices, ext4 and the kernel's fscrypt ioctls (needs root,
 * which scripts/test has). The scan of the backing file is checked against a control: the same
 * writes on a plain ext4 image are found by the same scan.
 */
class FscryptVolumesTest {

    private static final long SIZE = 64L << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;
    private FscryptVolumes volumes;

    @BeforeEach
    void rootWithLoopDevices() {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control")),
                "needs root and loop devices (scripts/test runs as root)");
        volumes = new FscryptVolumes(dir.resolve("volumes"), 10001, 10001);
    }

    @AfterEach
    void closeEverything() throws IOException {
        for (String v : new String[]{"mail-data", "other", "grow-me"}) {
            if (volumes != null && volumes.exists(v)) {
                volumes.destroy(v);
            }
        }
    }

    @Test
    void contentsAndNamesAreCiphertextOnDiskButTheSameScanFindsThemOnAPlainControl() throws Exception {
        String marker = "MARKER-" + UUID.randomUUID();
        String mailbox = "Mailbox-" + UUID.randomUUID();
        byte[] key = key();

        Path data = volumes.create("mail-data", SIZE, key);
        writeMail(data, mailbox, marker);
        volumes.close("mail-data");
        assertThat(volumes.isOpen("mail-data")).isFalse();
        byte[] disk = Files.readAllBytes(volumes.backingFile("mail-data"));
        assertThat(contains(disk, marker)).as("marker in the encrypted image").isFalse();
        assertThat(contains(disk, mailbox)).as("mailbox name in the encrypted image").isFalse();

        Path control = dir.resolve("control.img");
        Path mnt = Files.createDirectories(dir.resolve("control"));
        try (var f = new java.io.RandomAccessFile(control.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        SystemTool.run("mkfs.ext4", "-q", "-F", control.toString());
        SystemTool.run("mount", "-o", "loop", control.toString(), mnt.toString());
        try {
            writeMail(Files.createDirectory(mnt.resolve("data")), mailbox, marker);
        } finally {
            SystemTool.run("umount", mnt.toString());
        }
        byte[] plain = Files.readAllBytes(control);
        assertThat(contains(plain, marker)).as("marker in the plain control image").isTrue();
        assertThat(contains(plain, mailbox)).as("mailbox name in the plain control image").isTrue();

        Path reopened = volumes.open("mail-data", key);
        assertThat(volumes.isOpen("mail-data")).isTrue();
        assertThat(Files.readString(reopened.resolve(mailbox).resolve("1.eml"))).contains(marker);
        assertThat(Files.getAttribute(reopened, "unix:uid")).isEqualTo(10001);
    }

    @Test
    void aWrongKeyIsRefusedAndTheDataSurvives() throws Exception {
        byte[] key = key();
        Path data = volumes.create("other", SIZE, key);
        Files.writeString(data.resolve("kept.txt"), "still here");
        volumes.close("other");

        assertThatThrownBy(() -> volumes.open("other", key()))
                .hasMessageContaining("not this volume's key");
        assertThat(volumes.isOpen("other")).isFalse();
        assertThat(Files.readString(volumes.open("other", key).resolve("kept.txt"))).isEqualTo("still here");
    }

    @Test
    void aMissingVolumeFileIsNamed() {
        assertThatThrownBy(() -> volumes.open("absent", key()))
                .hasMessageContaining("volume absent")
                .hasMessageContaining("absent.img is missing");
    }

    @Test
    void aClosedVolumeGrowsAndKeepsItsData() throws Exception {
        byte[] key = key();
        Path data = volumes.create("grow-me", SIZE, key);
        Files.writeString(data.resolve("kept.txt"), "still here");
        long before = Files.getFileStore(data).getTotalSpace();
        assertThatThrownBy(() -> volumes.grow("grow-me", 2 * SIZE, key)).hasMessageContaining("close it before growing");
        volumes.close("grow-me");

        volumes.grow("grow-me", 2 * SIZE, key);

        data = volumes.open("grow-me", key);
        assertThat(Files.getFileStore(data).getTotalSpace()).isGreaterThan(before + SIZE / 2);
        assertThat(Files.readString(data.resolve("kept.txt"))).isEqualTo("still here");
        volumes.close("grow-me");
        assertThatThrownBy(() -> volumes.grow("grow-me", SIZE, key)).hasMessageContaining("shrinking");
    }

    /**
     * A namespace copied while the volume was open loses it when it is closed here, so it can be
     * grown at once: the image builds' namespaces ({@link MountNamespace}, here around a sleep) as
     * well as {@code ip netns exec}'s (the overlay's helpers, the tests' servers). A private copy,
     * or one under a private parent, kept it mounted for the namespace's life.
     */
    @Test
    void aNamespaceCopiedWhileTheVolumeWasOpenDoesNotKeepItAfterClose() throws Exception {
        byte[] key = key();
        volumes.create("shared-out", SIZE, key);
        Process holder = new ProcessBuilder(MountNamespace.around(List.of("sleep", "60"))).start();
        try {
            Thread.sleep(500);
            assertThat(holder.isAlive()).isTrue();
            volumes.close("shared-out");

            long start = System.nanoTime();
            volumes.grow("shared-out", 2 * SIZE, key);
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).as("no wait for a release").isLessThan(java.time.Duration.ofSeconds(10));
        } finally {
            holder.destroyForcibly().waitFor();
        }
        // Nothing of the volumes folder is left mounted once its volumes are closed.
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.resolve("volumes").toString());
    }

    private static void writeMail(Path data, String mailbox, String marker) throws IOException {
        Path folder = Files.createDirectory(data.resolve(mailbox));
        Files.writeString(folder.resolve("1.eml"), ("Subject: test\r\n\r\n" + marker + "\r\n").repeat(50));
    }

    private static byte[] key() {
        byte[] key = new byte[Fscrypt.KEY_BYTES];
        RANDOM.nextBytes(key);
        return key;
    }

    private static boolean contains(byte[] haystack, String needle) {
        return ByteSearch.indexOf(haystack, needle.getBytes(StandardCharsets.UTF_8)) >= 0;
    }
}
