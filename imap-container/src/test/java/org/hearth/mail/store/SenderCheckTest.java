package org.hearth.mail.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the store does with the scanner's sender check: the real LMTP server and store in this JVM,
 * a real LMTP client over a socket, and a socket peer answering as the scanner does (the real
 * scanner's checks against a real DNS server are MailOutboundTest's, on the engine).
 */
class SenderCheckTest {

    @TempDir
    Path data;
    private FakeSpamd scanner;
    private StoreFixture store;

    @BeforeEach
    void start() throws Exception {
        scanner = new FakeSpamd();
        store = new StoreFixture(data, scanner.address());
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        scanner.close();
    }

    private static byte[] message(String extraHeaders) {
        return ("Received: from relay.example by smtp-in\r\n" + extraHeaders
                + "From: s@elsewhere.example\r\nTo: a@d.example\r\nSubject: hello\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void theResultsAreRecordedUnderThisServersNameAndForgedOnesRemoved() throws Exception {
        scanner.senderCheck("spf=pass smtp.mailfrom=sender@elsewhere.example; dkim=pass header.d=elsewhere.example"
                + " header.s=s1 header.a=ed25519-sha256 header.b=AbCdEf12; dmarc=pass header.from=elsewhere.example", "none");

        assertThat(LmtpTestClient.send(store.lmtp, message("Authentication-Results: " + StoreFixture.AUTHSERV_ID
                + "; dmarc=pass (forged)\r\n"), "a@d.example")).singleElement().asString().startsWith("250");

        String stored = store.newest("a@d.example", Mailboxes.INBOX);
        assertThat(stored).startsWith("Authentication-Results: " + StoreFixture.AUTHSERV_ID + ";\r\n"
                + "\tspf=pass smtp.mailfrom=sender@elsewhere.example;\r\n"
                + "\tdkim=pass header.d=elsewhere.example header.s=s1 header.a=ed25519-sha256 header.b=AbCdEf12;\r\n"
                + "\tdmarc=pass header.from=elsewhere.example\r\n").doesNotContain("(forged)");
        assertThat(scanner.lastRequest()).contains("\r\nEnvelope-From: <sender@elsewhere.example>");
    }

    @Test
    void aMessageForTwoUsersIsScannedForEachWithItsSenderCheckedOnce() throws Exception {
        scanner.senderCheck("spf=pass smtp.mailfrom=sender@elsewhere.example; dkim=none; dmarc=none", "none");

        assertThat(LmtpTestClient.send(store.lmtp, message(""), "a@d.example", "b@d.example"))
                .hasSize(2).allSatisfy(reply -> assertThat(reply).startsWith("250"));

        // Each user's Bayes data judges the text; the sender's DNS is asked once.
        assertThat(scanner.requests()).hasSize(2);
        assertThat(scanner.requests().get(0)).contains("\r\nUser: a@d.example\r\n").contains("\r\nEnvelope-From: <");
        assertThat(scanner.requests().get(1)).contains("\r\nUser: b@d.example\r\n").doesNotContain("Envelope-From");
        for (String user : new String[]{"a@d.example", "b@d.example"}) {
            assertThat(store.newest(user, Mailboxes.INBOX)).as(user).contains("spf=pass smtp.mailfrom=sender@elsewhere.example");
        }
    }

    @Test
    void aDmarcRejectionIsRefusedWith550AndNothingIsStored() throws Exception {
        scanner.senderCheck("spf=fail smtp.mailfrom=sender@elsewhere.example; dkim=none; dmarc=fail header.from=bank.example",
                "reject");

        assertThat(LmtpTestClient.send(store.lmtp, message(""), "a@d.example", "b@d.example")).hasSize(2)
                .allSatisfy(r -> assertThat(r).startsWith("550 5.7.1").contains("DMARC policy of bank.example"));

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isZero();
        assertThat(store.count("a@d.example", Mailboxes.JUNK)).isZero();
    }

    /**
     * Outbound's own port: a delivery notice from MAILER-DAEMON of a domain publishing p=reject is
     * signed by no one and sent from no public address, so no sender check is asked for or used.
     */
    @Test
    void mailFromTheAppliancesOwnOutboundIsNotJudgedAsAStrangers() throws Exception {
        scanner.senderCheck("spf=none; dkim=none; dmarc=fail header.from=d.example", "reject");

        assertThat(LmtpTestClient.send(store.ownLmtp, message(""), "a@d.example")).singleElement().asString().startsWith("250");

        assertThat(store.newest("a@d.example", Mailboxes.INBOX)).startsWith("Authentication-Results: "
                + StoreFixture.AUTHSERV_ID + "; none (sent by this appliance: its own user or a notice)\r\n")
                .doesNotContain("dmarc=fail");
        assertThat(scanner.lastRequest()).doesNotContain("Envelope-From");
        // The world's port still judges the same message.
        assertThat(LmtpTestClient.send(store.lmtp, message(""), "a@d.example")).singleElement().asString().startsWith("550 5.7.1");
    }

    @Test
    void aDmarcQuarantineGoesToJunk() throws Exception {
        scanner.senderCheck("spf=softfail smtp.mailfrom=sender@elsewhere.example; dkim=none; dmarc=fail header.from=elsewhere.example",
                "quarantine");

        assertThat(LmtpTestClient.send(store.lmtp, message(""), "a@d.example")).singleElement().asString().startsWith("250");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isZero();
        assertThat(store.newest("a@d.example", Mailboxes.JUNK)).contains("dmarc=fail header.from=elsewhere.example");
    }

    @Test
    void aMessageTooLargeToScanIsStillCheckedForItsSender() throws Exception {
        scanner.senderCheck("spf=pass smtp.mailfrom=sender@elsewhere.example; dkim=none; dmarc=fail header.from=bank.example",
                "reject");
        byte[] large = (new String(message(""), StandardCharsets.US_ASCII) + ("x".repeat(70) + "\r\n").repeat(9000))
                .getBytes(StandardCharsets.US_ASCII);

        assertThat(LmtpTestClient.send(store.lmtp, large, "a@d.example")).singleElement().asString().startsWith("550 5.7.1");
        assertThat(scanner.lastRequest()).contains("\r\nSpam-Check: no");
    }

    @Test
    void withoutASenderCheckTheFieldSaysNone() throws Exception {
        assertThat(LmtpTestClient.send(store.lmtp, message(""), "a@d.example")).singleElement().asString().startsWith("250");

        assertThat(store.newest("a@d.example", Mailboxes.INBOX))
                .startsWith("Authentication-Results: " + StoreFixture.AUTHSERV_ID + "; none (no sender check)\r\n");
    }
}
