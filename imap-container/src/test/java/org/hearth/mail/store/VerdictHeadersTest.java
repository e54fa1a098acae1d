package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class VerdictHeadersTest {

    private static String apply(String message, String... headers) {
        return new String(VerdictHeaders.apply(message.getBytes(StandardCharsets.UTF_8), "mx.d.example", headers),
                StandardCharsets.UTF_8);
    }

    @Test
    void addsTheVerdictDropsForgedOnesAndKeepsTheBodyByteForByte() {
        String message = "Received: from x\r\nX-Spam-Flag: NO\r\nX-SPAM-Status: No,\r\n\tforged=1\r\nSubject: hi\r\n\r\n"
                + "X-Spam-Flag: body text stays\r\n.\r\n";

        assertThat(apply(message, "X-Spam-Flag: YES")).isEqualTo("X-Spam-Flag: YES\r\nReceived: from x\r\nSubject: hi\r\n\r\n"
                + "X-Spam-Flag: body text stays\r\n.\r\n");
    }

    @Test
    void dropsAuthenticationResultsClaimingThisServerAndKeepsOthers() {
        String message = "Authentication-Results: MX.D.EXAMPLE; dmarc=pass\r\n"
                + "Authentication-Results:\r\n mx.d.example 1; spf=pass\r\n"
                + "Authentication-Results: (forged) mx.d.example;\r\n\tdkim=pass\r\n"
                + "Authentication-Results: mx.d.example.evil; spf=pass\r\n"
                + "Authentication-Results: relay.other.example; dkim=pass\r\n"
                + "Subject: hi\r\n\r\nAuthentication-Results: mx.d.example; in the body stays\r\n";

        assertThat(apply(message, "Authentication-Results: mx.d.example; none")).isEqualTo(
                "Authentication-Results: mx.d.example; none\r\n"
                        + "Authentication-Results: mx.d.example.evil; spf=pass\r\n"
                        + "Authentication-Results: relay.other.example; dkim=pass\r\n"
                        + "Subject: hi\r\n\r\nAuthentication-Results: mx.d.example; in the body stays\r\n");
    }

    @Test
    void worksWithBareLineFeedsAndWithoutABody() {
        assertThat(apply("A: 1\nX-Spam-Score: 9\n\nbody\n", "X-Spam-Score: 1")).isEqualTo("X-Spam-Score: 1\r\nA: 1\n\nbody\n");
        assertThat(apply("A: 1\r\n", "B: 2")).isEqualTo("B: 2\r\nA: 1\r\n");
    }
}
