package org.hearth.mail.outbound.dkim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.hearth.mail.outbound.NativeCrypto;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Security;
import java.security.Signature;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Hearth signs, dkimpy verifies (Debian's python3-dkim: another implementation), with the key records
 * exactly as {@link DkimKey#txtValue} publishes them. Both algorithms, and what must break them.
 */
class DkimSignerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DOMAIN = "example.test";
    private static final LocalDate DAY = LocalDate.of(2026, 12, 1);
    private static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@example.test>",
            "To: bob@example.org",
            "Subject: The plan",
            "Date: Tue, 01 Dec 2026 09:00:00 +0000",
            "Message-ID: <plan-1@example.test>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Meet at noon.  ",
            "",
            ". a line with a dot",
            "",
            "") ;

    @TempDir
    static Path volume;
    private static DkimKeys keys;
    private static List<DkimKey> active;

    @BeforeAll
    static void makeKeys() throws IOException {
        keys = new DkimKeys(volume.resolve("dkim"));
        active = keys.rotate(DOMAIN, DAY);
    }

    @Test
    void bothSignaturesVerifyAgainstThePublishedRecords() throws Exception {
        assertThat(active).extracting(DkimKey::selector).containsExactly("rsa-20261201", "ed-20261201");
        JsonNode result = verify(signed(MESSAGE), records(active));
        assertThat(result.findValuesAsText("algorithm")).containsExactly("rsa-sha256", "ed25519-sha256");
        assertThat(result.findValues("valid")).extracting(JsonNode::asBoolean).containsExactly(true, true);
    }

    @Test
    void aRelayRefoldingHeadersAndSpacesKeepsThemValid() throws Exception {
        // Relaxed canonicalisation: whitespace runs and folding may change on the way.
        String relayed = signed(MESSAGE).replace("Subject: The plan", "Subject:  The\r\n plan")
                .replace("Meet at noon.  ", "Meet at  noon.");
        assertThat(verify(relayed, records(active)).findValues("valid")).extracting(JsonNode::asBoolean)
                .containsExactly(true, true);
    }

    @Test
    void foldedRepeatedAndUtf8FieldsAndAMessageWithoutBodyVerify() throws Exception {
        // The header section is read by Hearth (not mime4j): folding, repeated names and UTF-8 must reach the hash as they are.
        String folded = String.join("\r\n",
                "From: =?utf-8?q?J=C3=B6rg?= <alice@example.test>",
                "To: bob@example.org,",
                "\tcarol@example.org",
                "Subject: Grüße aus Köln,",
                " on two lines",
                "Cc: dave@example.org",
                "cc: erin@example.org",
                "X-Not-Signed: whatever",
                "",
                "Body",
                "");
        // No body, or only blank lines: signed with simple body canonicalisation (jDKIM's relaxed one hashes these wrongly).
        String headerOnly = "From: alice@example.test\r\nSubject: nothing to say\r\n";
        String blankBody = "From: alice@example.test\r\nSubject: blank\r\n\r\n \r\n\r\n";
        assertThat(DkimSigner.sign(blankBody.getBytes(StandardCharsets.UTF_8), active, Instant.now())).contains("c=relaxed/simple;");
        for (String message : List.of(folded, headerOnly, blankBody)) {
            assertThat(verify(signed(message), records(active)).findValues("valid")).as(message)
                    .extracting(JsonNode::asBoolean).containsExactly(true, true);
        }
        // A changed second Cc or a changed folded line still counts.
        for (String tampered : List.of(signed(folded).replace("erin@", "eve@"), signed(folded).replace("\tcarol", "\tmallory"))) {
            assertThat(verify(tampered, records(active)).findValues("valid")).extracting(JsonNode::asBoolean)
                    .containsExactly(false, false);
        }
    }

    @Test
    void aChangedSubjectOrBodyBreaksBoth() throws Exception {
        String signed = signed(MESSAGE);
        for (String tampered : List.of(signed.replace("The plan", "The new plan"),
                signed.replace("Meet at noon.", "Meet at one."))) {
            assertThat(verify(tampered, records(active)).findValues("valid")).extracting(JsonNode::asBoolean)
                    .containsExactly(false, false);
        }
    }

    @Test
    void anAddedSecondFromBreaksBoth() throws Exception {
        // Oversigning: h= lists from twice, so a From added above the signed one is not "unsigned".
        String signed = signed(MESSAGE);
        String withSecondFrom = "From: Mallory <ceo@example.test>\r\n" + signed;
        assertThat(verify(withSecondFrom, records(active)).findValues("valid")).extracting(JsonNode::asBoolean)
                .containsExactly(false, false);
    }

    @Test
    void theWrongPublishedKeyFailsVerification() throws Exception {
        List<DkimKey> other = new DkimKeys(volume.resolve("other")).rotate(DOMAIN, DAY);
        assertThat(verify(signed(MESSAGE), records(other)).findValues("valid")).extracting(JsonNode::asBoolean)
                .containsExactly(false, false);
    }

    @Test
    void signedLinesStayShortAndTheRecordsAreWellFormed() throws Exception {
        String header = DkimSigner.sign(MESSAGE.getBytes(StandardCharsets.UTF_8), active, Instant.now());
        for (String line : header.split("\r\n")) {
            assertThat(line.length()).as(line).isLessThanOrEqualTo(998);
        }
        DkimKey rsa = active.get(0);
        DkimKey ed = active.get(1);
        assertThat(rsa.txtValue()).startsWith("v=DKIM1; k=rsa; p=MIIBIjAN");
        // RFC 8463: the bare 32-byte key, 44 characters of base64.
        assertThat(ed.txtValue()).matches("v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=");
        // An RSA-2048 record is longer than one TXT string: split into strings of at most 255.
        String zone = rsa.zoneLine();
        assertThat(zone).startsWith("rsa-20261201._domainkey.example.test. 3600 IN TXT \"v=DKIM1; k=rsa; p=");
        List<String> strings = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("\"([^\"]*)\"").matcher(zone);
        while (m.find()) {
            strings.add(m.group(1));
        }
        assertThat(strings).hasSizeGreaterThan(1).allMatch(s -> s.length() <= 255);
        assertThat(String.join("", strings)).isEqualTo(rsa.txtValue());
    }

    @Test
    void keysSurviveARestartPrivateKeysAreOwnerOnlyAndRotationKeepsOldOnesPublished() throws Exception {
        Path dir = volume.resolve("rotation");
        List<DkimKey> first = new DkimKeys(dir).rotate(DOMAIN, DAY);
        DkimKeys reopened = new DkimKeys(dir);
        assertThat(reopened.active(DOMAIN)).extracting(DkimKey::selector)
                .containsExactly("rsa-20261201", "ed-20261201");
        assertThat(reopened.active(DOMAIN).get(1).publicKey()).isEqualTo(first.get(1).publicKey());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(DOMAIN).resolve("rsa-20261201.key"))))
                .isEqualTo("rw-------");

        List<DkimKey> second = reopened.rotate(DOMAIN, DAY);
        assertThat(second).extracting(DkimKey::selector).containsExactly("rsa-20261201-2", "ed-20261201-2");
        assertThat(new DkimKeys(dir).active(DOMAIN)).extracting(DkimKey::selector)
                .containsExactly("rsa-20261201-2", "ed-20261201-2");
        // The instance that signs (and keeps its domains' keys in memory) signs with the new keys at once.
        assertThat(reopened.active(DOMAIN)).extracting(DkimKey::selector).containsExactly("rsa-20261201-2", "ed-20261201-2");
        // Mail signed with the old keys may still be in transit: they stay published.
        assertThat(reopened.published(DOMAIN)).extracting(DkimKey::selector).containsExactlyInAnyOrder(
                "rsa-20261201", "ed-20261201", "rsa-20261201-2", "ed-20261201-2");
        // And a message signed before the rotation still verifies against what is published now.
        String before = DkimSigner.sign(MESSAGE.getBytes(StandardCharsets.UTF_8), first, Instant.now()) + MESSAGE;
        assertThat(verify(before, records(reopened.published(DOMAIN))).findValues("valid"))
                .extracting(JsonNode::asBoolean).containsExactly(true, true);
    }

    @Test
    void aDomainThatIsNoDomainIsRefusedByName() {
        for (String bad : List.of("../etc", "example", "exa mple.test", "/tmp/x.test")) {
            assertThatThrownBy(() -> keys.rotate(bad, DAY)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a domain name: " + bad);
        }
    }

    /**
     * As the container runs: the native provider (AWS-LC) first, so keys are made, stored, read back
     * and used through it. It must load on this machine, and what it signs must verify.
     */
    @Test
    void withTheNativeProviderFirstKeysMadeAndReadBackSignWhatVerifies(@TempDir Path other) throws Exception {
        try {
            assertThat(NativeCrypto.install()).as("Amazon Corretto Crypto Provider loads here").isTrue();
            assertThat(Security.getProviders()[0].getName()).isEqualTo("AmazonCorrettoCryptoProvider");
            new DkimKeys(other).rotate(DOMAIN, DAY);
            List<DkimKey> reread = new DkimKeys(other).active(DOMAIN);
            assertThat(reread).hasSize(2);
            assertThat(Signature.getInstance("SHA256withRSA").getProvider().getName()).isEqualTo("AmazonCorrettoCryptoProvider");
            String message = DkimSigner.sign(MESSAGE.getBytes(StandardCharsets.UTF_8), reread, Instant.now()) + MESSAGE;
            JsonNode result = verify(message, records(reread));
            assertThat(result.findValuesAsText("algorithm")).containsExactly("rsa-sha256", "ed25519-sha256");
            assertThat(result.findValues("valid")).extracting(JsonNode::asBoolean).containsExactly(true, true);
        } finally {
            Security.removeProvider("AmazonCorrettoCryptoProvider");
        }
    }

    @Test
    void aDomainWithoutKeysHasNoneActive() throws IOException {
        assertThat(keys.active("nokeys.test")).isEmpty();
        assertThat(keys.published("nokeys.test")).isEmpty();
    }

    private static String signed(String message) throws IOException {
        return DkimSigner.sign(message.getBytes(StandardCharsets.UTF_8), active, Instant.now()) + message;
    }

    private static Map<String, String> records(List<DkimKey> keys) {
        Map<String, String> records = new LinkedHashMap<>();
        keys.forEach(k -> records.put(k.dnsName(), k.txtValue()));
        return records;
    }

    private static JsonNode verify(String message, Map<String, String> records) throws Exception {
        Path script = Path.of("src/test/python/dkim_verify.py").toAbsolutePath();
        String args = JSON.writeValueAsString(Map.of("records", records,
                "message_b64", Base64.getEncoder().encodeToString(message.getBytes(StandardCharsets.UTF_8))));
        Process p = new ProcessBuilder("python3", script.toString(), args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return JSON.readTree(out);
    }
}
