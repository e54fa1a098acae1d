package org.hearth.core.pairing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PairingStateTest {

    @TempDir
    Path dir;

    @Test
    void aPairedBoxWaitsOnlyOnACodeTheOwnerAskedForAndStaysPairedMeanwhile() throws Exception {
        PairingState state = new PairingState(dir);
        var first = state.code().orElseThrow();
        assertThat(state.code()).contains(first);

        state.markPaired("alice", "alice.boxes.test", "alice@alice.boxes.test");
        assertThat(state.code()).isEmpty();

        // A new phone for a lost one: a new code, the box still paired under its name.
        var again = state.newCode();
        assertThat(again).isNotEqualTo(first);
        assertThat(state.code()).contains(again);
        assertThat(state.paired().orElseThrow().domain()).isEqualTo("alice.boxes.test");

        state.markPaired("alice", "alice.boxes.test", "alice@alice.boxes.test");
        assertThat(state.code()).isEmpty();
    }
}
