package org.hearth.tests;

import com.github.dockerjava.api.exception.NotFoundException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.hearth.core.catalog.CatalogException;
import org.hearth.core.catalog.ImageArchiveLoader;
import org.hearth.core.runtime.Engine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a catalog install hears from the real engine when it loads an archive: every image loaded, the
 * engine's own error even after an image loaded first (the engine answers 200 and puts errors in the
 * stream), and a load that does not end is stopped at the limit, its upload with it. The archives are made here in
 * {@code docker save}'s format, one layer of one small file.
 */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
class ImageArchiveLoaderTest {

    private static final String TINY = "hearth-loadtest/tiny:latest";
    private static final String BROKEN = "hearth-loadtest/broken:latest";
    private static Engine engine;

    @BeforeAll
    static void engine() {
        engine = EngineFixture.engine();
    }

    @AfterEach
    void removeTheImages() {
        for (String image : new String[]{TINY, BROKEN}) {
            try {
                engine.client().removeImageCmd(image).withForce(true).exec();
            } catch (NotFoundException never) {
                // Not loaded by this test.
            }
        }
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void anArchiveLoadsToTheEndAndNamesItsImages() throws Exception {
        assertThat(loader(Duration.ofMinutes(2)).load("tiny.tar", archive(false))).containsExactly(TINY);
        assertThat(engine.client().inspectImageCmd(TINY).exec().getId()).startsWith("sha256:");
    }

    /** As catalogs publish them: Podman's engine (4.3) takes no compressed archive, so it goes uncompressed. */
    @Test
    void aGzipCompressedArchiveLoadsOnEitherEngine() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            archive(false).transferTo(out);
        }

        assertThat(loader(Duration.ofMinutes(2)).load("tiny.tar.gz", new ByteArrayInputStream(gz.toByteArray())))
                .containsExactly(TINY);
        assertThat(engine.client().inspectImageCmd(TINY).exec().getId()).startsWith("sha256:");
    }

    /** Docker loads an archive's images one by one and reports an error after those it loaded; Podman refuses the whole archive. */
    @Test
    void theEnginesErrorAfterAnImageLoadedIsNotLost() {
        var refused = assertThatThrownBy(() -> loader(Duration.ofMinutes(2)).load("two.tar", archive(true)))
                .isInstanceOf(CatalogException.class)
                .hasMessageStartingWith("two.tar: the engine could not load it: ");
        if (engine.kind() == Engine.Kind.PODMAN) {
            refused.hasMessageContaining("Some layer tarfiles are missing in the tarball").hasMessageNotContaining("{");
        } else {
            refused.hasMessageContaining("missing/layer.tar: no such file or directory")
                    .hasMessageEndingWith("(after loading " + TINY + ")");
        }
    }

    @Test
    void somethingThatIsNoImageArchiveIsRefusedInTheEnginesWords() {
        assertThatThrownBy(() -> loader(Duration.ofMinutes(2)).load("notes.tar",
                new ByteArrayInputStream(tar(Map.of("notes.txt", "not an image".getBytes(StandardCharsets.UTF_8))))))
                .isInstanceOf(CatalogException.class)
                .hasMessageStartingWith("notes.tar: the engine could not load it: ")
                .hasMessageContaining(engine.kind() == Engine.Kind.PODMAN
                        ? "loading tar component manifest.json: file does not exist"
                        : "repositories: no such file or directory");
    }

    @Test
    void aLoadThatDoesNotEndIsStoppedAtTheLimitAndItsUploadWithIt() throws Exception {
        // An archive whose end never comes (a stalled download, a stuck disk): a gigabyte's file
        // announced, then a byte of it now and then.
        byte[] header = new byte[512];
        TarArchiveEntry big = new TarArchiveEntry("big/layer.tar");
        big.setSize(1L << 30);
        big.writeEntryHeader(header);
        TricklingArchive trickling = new TricklingArchive(header);
        try {
            assertThatThrownBy(() -> loader(Duration.ofSeconds(3)).load("trickling.tar", trickling))
                    .isInstanceOf(CatalogException.class)
                    .hasMessage("trickling.tar: the engine had not finished loading it after 3 s; stopped");
            // Stopped means nothing more is read from it: the request to the engine has ended.
            Thread.sleep(1000);
            long reads = trickling.reads.get();
            Thread.sleep(2000);
            assertThat(trickling.reads.get()).as("reads after the limit").isEqualTo(reads);
        } finally {
            trickling.close();
        }
    }

    private static ImageArchiveLoader loader(Duration limit) {
        return new ImageArchiveLoader(engine.client(), limit);
    }

    /** A {@code docker save} archive of TINY; with {@code broken}, a second image whose layer is missing. */
    private static InputStream archive(boolean broken) throws Exception {
        byte[] layer = tar(Map.of("hello.txt", "hello from a catalog\n".getBytes(StandardCharsets.UTF_8)));
        String config = config(sha256(layer));
        String manifest = "[{\"Config\":\"tiny.json\",\"RepoTags\":[\"" + TINY + "\"],\"Layers\":[\"layer/layer.tar\"]}"
                + (broken ? ",{\"Config\":\"broken.json\",\"RepoTags\":[\"" + BROKEN + "\"],\"Layers\":[\"missing/layer.tar\"]}" : "")
                + "]";
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("manifest.json", manifest.getBytes(StandardCharsets.UTF_8));
        files.put("tiny.json", config.getBytes(StandardCharsets.UTF_8));
        files.put("broken.json", config("1".repeat(64)).getBytes(StandardCharsets.UTF_8));
        files.put("layer/layer.tar", layer);
        return new ByteArrayInputStream(tar(files));
    }

    private static String config(String diffId) {
        return "{\"architecture\":\"" + engine.client().versionCmd().exec().getArch() + "\",\"os\":\"linux\","
                + "\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + diffId + "\"]}}";
    }

    private static byte[] tar(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(f.getKey());
                entry.setSize(f.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** Gives its first bytes, then a byte every 50 ms, without end. */
    private static final class TricklingArchive extends InputStream {
        private final ByteArrayInputStream start;
        final AtomicLong reads = new AtomicLong();

        TricklingArchive(byte[] start) {
            this.start = new ByteArrayInputStream(start);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            reads.incrementAndGet();
            if (start.available() > 0) {
                return start.read(b, off, len);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            b[off] = 'x';
            return 1;
        }
    }
}
