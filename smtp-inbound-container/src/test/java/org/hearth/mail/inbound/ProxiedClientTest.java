package org.hearth.mail.inbound;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Behind Hearth's edge listener smtp-in learns its real client from a PROXY protocol v2 header and
 * names it in the Received field. The header here is written byte by byte from the HAProxy
 * specification, independently of the listener's own encoder (appliance-core's ProxyHeader).
 */
class ProxiedClientTest {

    private RunningSmtp smtp;

    @BeforeEach
    void start() throws Exception {
        smtp = new RunningSmtp(100_000, true);
    }

    @AfterEach
    void stop() throws Exception {
        smtp.close();
    }

    @Test
    void theReceivedFieldNamesTheClientThePROXYHeaderNames() throws Exception {
        // Signature, v2 PROXY, TCP over IPv4, 12 bytes: 203.0.113.7:40001 -> 192.0.2.25:25.
        byte[] header = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                (byte) 203, 0, 113, 7, (byte) 192, 0, 2, 25, (byte) 0x9C, 0x41, 0x00, 0x19};
        try (SmtpWire wire = new SmtpWire(smtp.port)) {
            wire.write(new String(header, StandardCharsets.ISO_8859_1));
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO relay.example.org")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            assertThat(wire.command("Subject: proxied\r\n\r\nhello\r\n.")).startsWith("250");
        }
        assertThat(smtp.store.messages()).singleElement().asString()
                .startsWith("Received: from relay.example.org ([203.0.113.7])");
    }
}
