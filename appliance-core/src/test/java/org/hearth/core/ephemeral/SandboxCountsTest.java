package org.hearth.core.ephemeral;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SandboxCountsTest {

    @Test
    void readsTheHostsLineOfCounts() {
        assertThat(SandboxCounts.parse("created=12 destroyed=11 failed=0 busy=1 sandboxes=4\n"))
                .contains(new SandboxCounts(12, 11, 0, 1, 4));
    }

    @Test
    void aLineMissingACountOrWithGarbageIsNoAnswer() {
        assertThat(SandboxCounts.parse("created=12 destroyed=11 failed=0 busy=1")).isEmpty();
        assertThat(SandboxCounts.parse("created=x destroyed=11 failed=0 busy=1 sandboxes=4")).isEmpty();
        assertThat(SandboxCounts.parse("SPAMD/1.5 76 EX_PROTOCOL")).isEmpty();
        assertThat(SandboxCounts.parse("")).isEmpty();
    }
}
