package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SpamHeadersTest {

    @Test
    void addsTheVerdictDropsForgedOnesAndKeepsTheBodyByteForByte() {
        String message = "Received: from x\r\nX-Spam-Flag: NO\r\nX-SPAM-Status: No,\r\n\tforged=1\r\nSubject: hi\r\n\r\n"
                + "X-Spam-Flag: body text stays\r\n.\r\n";

        String out = new String(SpamHeaders.apply(message.getBytes(StandardCharsets.UTF_8), "X-Spam-Flag: YES"),
                StandardCharsets.UTF_8);

        assertThat(out).isEqualTo("X-Spam-Flag: YES\r\nReceived: from x\r\nSubject: hi\r\n\r\n"
                + "X-Spam-Flag: body text stays\r\n.\r\n");
    }

    @Test
    void worksWithBareLineFeedsAndWithoutABody() {
        assertThat(new String(SpamHeaders.apply("A: 1\nX-Spam-Score: 9\n\nbody\n".getBytes(StandardCharsets.UTF_8),
                "X-Spam-Score: 1"), StandardCharsets.UTF_8)).isEqualTo("X-Spam-Score: 1\r\nA: 1\n\nbody\n");
        assertThat(new String(SpamHeaders.apply("A: 1\r\n".getBytes(StandardCharsets.UTF_8), "B: 2"),
                StandardCharsets.UTF_8)).isEqualTo("B: 2\r\nA: 1\r\n");
    }
}
