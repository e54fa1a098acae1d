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
        assertThat(receivedAfter(header)).startsWith("Received: from relay.example.org ([203.0.113.7])");
    }

    @Test
    void anIpv6ClientIsNamedAsOneEvenWhenItsAddressEndsLikeAMappedIpv4One() throws Exception {
        // TCP over IPv6, 36 bytes: 2001:db8:1:2:3:ffff:7f00:1 -> ::1. Only ::ffff:0:0/96 is IPv4-mapped;
        // this client chose bits that end like 127.0.0.1 and must not pass for it.
        byte[] header = new byte[16 + 36];
        System.arraycopy(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21, 0x00, 0x24},
                0, header, 0, 16);
        int[] words = {0x2001, 0x0db8, 1, 2, 3, 0xffff, 0x7f00, 1};
        for (int i = 0; i < 8; i++) {
            header[16 + 2 * i] = (byte) (words[i] >> 8);
            header[17 + 2 * i] = (byte) words[i];
        }
        header[16 + 31] = 1;
        assertThat(receivedAfter(header)).startsWith("Received: from relay.example.org ([IPv6:2001:db8:1:2:3:ffff:7f00:1])");
    }

    /** The start of the stored message after one transaction behind this PROXY header. */
    private String receivedAfter(byte[] header) throws Exception {
        try (SmtpWire wire = new SmtpWire(smtp.port)) {
            wire.write(new String(header, StandardCharsets.ISO_8859_1));
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO relay.example.org")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            assertThat(wire.command("Subject: proxied\r\n\r\nhello\r\n.")).startsWith("250");
        }
        return smtp.store.awaitQuit().messages().get(smtp.store.messages().size() - 1);
    }
}
