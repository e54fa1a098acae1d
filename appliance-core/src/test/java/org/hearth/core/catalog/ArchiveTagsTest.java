package org.hearth.core.catalog;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Renaming tags in an archive laid out as {@code docker save} writes it (Arm64CatalogTest loads
 * a renamed one into a real engine).
 */
class ArchiveTagsTest {

    private static final String MANIFEST = "[{\"Config\":\"c0ffee.json\",\"RepoTags\":[\"hearth/x:arm64\"],\"Layers\":[\"l1/layer.tar\"]},"
            + "{\"Config\":\"beef.json\",\"RepoTags\":[\"hearth/y:arm64\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]";
    private static final String REPOSITORIES = "{\"hearth/x\":{\"arm64\":\"l1\"},\"hearth/y\":{\"arm64\":\"l2\"}}";

    private static byte[] save() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            file(tar, "l1/layer.tar", "first layer");
            TarArchiveEntry link = new TarArchiveEntry("l2/layer.tar", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("../l1/layer.tar");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            file(tar, "manifest.json", MANIFEST);
            file(tar, "repositories", REPOSITORIES);
        }
        return bytes.toByteArray();
    }

    private static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(b.length);
        tar.putArchiveEntry(e);
        tar.write(b);
        tar.closeArchiveEntry();
    }

    private static Map<String, String> entries(byte[] archive) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                entries.put(e.getName(), e.isSymbolicLink() ? "-> " + e.getLinkName() : new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return entries;
    }

    @Test
    void tagsAreRenamedInManifestAndRepositoriesAndLayersPassUntouched() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ArchiveTags.rename(new ByteArrayInputStream(save()), out,
                Map.of("hearth/x:arm64", "hearth/x:latest", "hearth/y:arm64", "hearth/y:latest"));

        Map<String, String> entries = entries(out.toByteArray());
        ObjectMapper json = new ObjectMapper();
        assertThat(entries).containsEntry("l1/layer.tar", "first layer").containsEntry("l2/layer.tar", "-> ../l1/layer.tar");
        assertThat(json.readTree(entries.get("manifest.json")))
                .isEqualTo(json.readTree(MANIFEST.replace(":arm64", ":latest")));
        assertThat(json.readTree(entries.get("repositories")))
                .isEqualTo(json.readTree("{\"hearth/x\":{\"latest\":\"l1\"},\"hearth/y\":{\"latest\":\"l2\"}}"));
    }

    @Test
    void aTagTheArchiveDoesNotHoldFailsRatherThanPublishingAnUnloadableName() {
        assertThatThrownBy(() -> ArchiveTags.rename(new ByteArrayInputStream(save()), new ByteArrayOutputStream(),
                Map.of("hearth/z:arm64", "hearth/z:latest")))
                .hasMessage("the engine's archive does not hold [hearth/z:arm64] (it holds [hearth/x:arm64, hearth/y:arm64])");
    }
}
