package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scanner's replies: spamd's part as SpamAssassin 4.0.1 sends it (captured from the scanner image), plus the sender check. */
class SpamScannerTest {

    @Test
    void readsASpamVerdictWithItsRules() throws IOException {
        SpamScanner.Reply r = SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: True ; 1002.7 / 5.0\r\n"
                + "\r\nGTUBE,NO_RELAYS", true);

        assertThat(r.verdict()).contains(new SpamScanner.Verdict(true, 1002.7, 5.0, List.of("GTUBE", "NO_RELAYS")));
        assertThat(r.sender()).isEmpty();
    }

    @Test
    void readsACleanVerdictWithNoRules() throws IOException {
        SpamScanner.Reply r = SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; -1.0 / 5.0\r\n\r\n", true);

        assertThat(r.verdict()).contains(new SpamScanner.Verdict(false, -1.0, 5.0, List.of()));
    }

    @Test
    void readsTheSenderCheckWithOrWithoutASpamVerdict() throws IOException {
        String results = "spf=fail smtp.mailfrom=x@a.example; dkim=none; dmarc=fail header.from=a.example";
        SpamScanner.Reply scanned = SpamScanner.parse("SPAMD/1.5 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0.1 / 5.0\r\n"
                + "Authentication: " + results + "\r\nDMARC-Disposition: reject\r\n\r\n", true);
        SpamScanner.Reply large = SpamScanner.parse("SPAMD/1.5 0 EX_OK\r\nContent-length: 0\r\nAuthentication: "
                + results + "\r\nDMARC-Disposition: quarantine\r\n\r\n", false);

        assertThat(scanned.sender()).contains(new SpamScanner.SenderCheck(results, SpamScanner.Disposition.REJECT, "a.example"));
        assertThat(large.verdict()).isEmpty();
        assertThat(large.sender().map(SpamScanner.SenderCheck::disposition)).contains(SpamScanner.Disposition.QUARANTINE);
    }

    @Test
    void aSenderCheckThatIsNotPlainBoundedTextIsDropped() throws IOException {
        String tooLong = "dkim=pass header.d=" + "a".repeat(4000);
        SpamScanner.Reply r = SpamScanner.parse("SPAMD/1.5 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0.1 / 5.0\r\n"
                + "Authentication: " + tooLong + "\r\nDMARC-Disposition: none\r\n\r\n", true);
        SpamScanner.Reply control = SpamScanner.parse("SPAMD/1.5 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0.1 / 5.0\r\n"
                + "Authentication: dkim=pass\u0007\r\n\r\n", true);

        assertThat(r.sender()).isEmpty();
        assertThat(control.sender()).isEqualTo(Optional.empty());
    }

    @Test
    void theAutolearnLineSaysWhetherToLearnTheMessage() throws IOException {
        String head = "SPAMD/1.5 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; -0.2 / 5.0\r\n";
        assertThat(SpamScanner.parse(head + "Autolearn: ham\r\n\r\n", true).autolearn()).isEqualTo(SpamScanner.Autolearn.HAM);
        assertThat(SpamScanner.parse(head + "Autolearn: spam\r\n\r\n", true).autolearn()).isEqualTo(SpamScanner.Autolearn.SPAM);
        assertThat(SpamScanner.parse(head + "Autolearn: no\r\n\r\n", true).autolearn()).isEqualTo(SpamScanner.Autolearn.NO);
        // A scanner without the line (an older image) asks for no learning.
        assertThat(SpamScanner.parse(head + "\r\n", true).autolearn()).isEqualTo(SpamScanner.Autolearn.NO);
    }

    @Test
    void anErrorOrGarbageIsAFailureNotAVerdict() {
        assertThatThrownBy(() -> SpamScanner.parse("SPAMD/1.0 76 Bad header line: x\r\n", true)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> SpamScanner.parse("", true)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> SpamScanner.parse("SPAMD/1.1 0 EX_OK\r\n\r\n", true)).hasMessageContaining("no verdict");
    }
}
