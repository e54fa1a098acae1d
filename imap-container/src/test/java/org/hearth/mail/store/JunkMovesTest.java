package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JunkMovesTest {

    @Test
    void aCopyuidSetNamesEachNewUid() {
        assertThat(JunkMoves.uids("4:6,9")).containsExactly(4L, 5L, 6L, 9L);
        assertThat(JunkMoves.uids("12")).containsExactly(12L);
        // RFC 3501 allows a range either way round.
        assertThat(JunkMoves.uids("8:7")).containsExactly(7L, 8L);
    }
}
