package org.hearth.core.pairing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The box's registry key: made once, kept, and never silently replaced once a name was claimed with it. */
class BoxIdentityTest {

    @TempDir
    Path dir;

    @Test
    void madeOnceThenTheSameKeyAtEachStart() throws Exception {
        BoxIdentity made = BoxIdentity.loadOrCreate(dir, Optional.empty());
        assertThat(BoxIdentity.loadOrCreate(dir, Optional.of("alice.boxes.test")).id()).isEqualTo(made.id());
    }

    @Test
    void aClaimedBoxWhoseKeyIsGoneGetsNoNewOneAndIsToldWhatToRestore() throws Exception {
        BoxIdentity.loadOrCreate(dir, Optional.empty());
        Files.delete(dir.resolve("box-key.pk8"));
        assertThatThrownBy(() -> BoxIdentity.loadOrCreate(dir, Optional.of("alice.boxes.test")))
                .isInstanceOf(BoxIdentity.MissingKey.class)
                .hasMessageContaining(dir.resolve("box-key.pk8").toString())
                .hasMessageContaining("alice.boxes.test")
                .hasMessageContaining("restore");
        assertThat(Files.exists(dir.resolve("box-key.pk8"))).isFalse();
        assertThat(BoxIdentity.present(dir)).isFalse();
    }
}
