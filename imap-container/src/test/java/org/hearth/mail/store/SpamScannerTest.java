package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** spamd's replies as SpamAssassin 4.0.1 sends them (captured from the scanner image). */
class SpamScannerTest {

    @Test
    void readsASpamVerdictWithItsRules() throws IOException {
        SpamScanner.Verdict v = SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: True ; 1002.7 / 5.0\r\n"
                + "\r\nGTUBE,NO_RELAYS");

        assertThat(v).isEqualTo(new SpamScanner.Verdict(true, 1002.7, 5.0, List.of("GTUBE", "NO_RELAYS")));
    }

    @Test
    void readsACleanVerdictWithNegativeScoreAndNoRules() throws IOException {
        SpamScanner.Verdict v = SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; -1.0 / 5.0\r\n\r\n");

        assertThat(v).isEqualTo(new SpamScanner.Verdict(false, -1.0, 5.0, List.of()));
    }

    @Test
    void anErrorOrGarbageIsAFailureNotAVerdict() {
        assertThatThrownBy(() -> SpamScanner.parse("SPAMD/1.0 76 Bad header line: x\r\n")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> SpamScanner.parse("")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\n\r\n")).hasMessageContaining("no verdict");
    }
}
