package org.hearth.core.supervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class QuarantineShelfTest {

    @TempDir
    Path data;

    @Test
    void itemsAreReadNewestFirstWithWhatTheAppWroteAboutThem() throws IOException {
        Path shelf = Files.createDirectories(data.resolve("quarantine"));
        Files.writeString(shelf.resolve("aaa.json"), "{\"version\":1,\"id\":\"aaa\",\"recipient\":\"alice@d.test\","
                + "\"messageId\":\"<1@x>\",\"errorClass\":\"PersistenceException\",\"failures\":5,"
                + "\"quarantinedAt\":\"2026-11-30T10:00:00Z\",\"message\":\"aaa.eml\"}");
        Files.writeString(shelf.resolve("bbb.json"), "{\"id\":\"bbb\",\"quarantinedAt\":\"2026-11-30T11:00:00Z\","
                + "\"recipient\":\"bob\\u001b[31m@d.test\",\"nested\":{\"x\":1}}");
        Files.writeString(shelf.resolve("bbb.eml"), "a message");

        List<SupervisorStatus.Quarantined> items = QuarantineShelf.read("mail-data", data);

        assertThat(items).extracting(SupervisorStatus.Quarantined::id).containsExactly("bbb", "aaa");
        assertThat(items.get(1).details()).containsEntry("recipient", "alice@d.test").containsEntry("failures", "5")
                .containsEntry("errorClass", "PersistenceException").doesNotContainKeys("id", "version", "quarantinedAt");
        // Written by a container: a terminal escape never reaches the owner's screen, nested values are dropped.
        assertThat(items.get(0).details()).containsEntry("recipient", "bob?[31m@d.test").doesNotContainKey("nested");
        assertThat(items.get(0).volume()).isEqualTo("mail-data");
    }

    @Test
    void aVolumeWithoutAShelfHasNothingAndABrokenItemSaysSo() throws IOException {
        assertThat(QuarantineShelf.read("v", data)).isEmpty();
        Files.createDirectories(data.resolve("quarantine"));
        Files.writeString(data.resolve("quarantine/ccc.json"), "{not json");
        assertThat(QuarantineShelf.read("v", data)).singleElement()
                .satisfies(q -> assertThat(q.details()).containsKey("unreadable"));
    }

    @Test
    void statusKeepsTheQuarantineAcrossItsJsonAndReadsAnOlderFileWithoutIt() throws IOException {
        SupervisorStatus.App app = new SupervisorStatus.App("mail", "1", SupervisorStatus.AppState.HEALTHY, Optional.empty(), List.of(), List.of(),
                List.of(new SupervisorStatus.Quarantined("mail-data", "aaa", "2026-11-30T10:00:00Z", Map.of("failures", "5"))));
        String json = SupervisorStatus.JSON.writeValueAsString(app);
        assertThat(SupervisorStatus.JSON.readValue(json, SupervisorStatus.App.class)).isEqualTo(app);
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) SupervisorStatus.JSON.readTree(json);
        node.remove("quarantine");
        String older = node.toString();
        assertThat(older).doesNotContain("quarantine");
        assertThat(SupervisorStatus.JSON.readValue(older, SupervisorStatus.App.class).quarantine()).isEmpty();
    }
}
