package org.hearth.mail.outbound.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.mail.outbound.delivery.KnotServer;
import org.hearth.mail.outbound.dkim.DkimKey;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.dkim.DkimSigner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The records Hearth would have the owner publish, published: loaded into a real authoritative
 * server (Knot), read back over DNS, and a signed message verified by dkimpy from what that server
 * answers (the long RSA record split into strings and joined again on the way).
 */
class MailDnsRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static KnotServer knot;
    private static List<DkimKey> keys;
    private static MailDnsRecords records;

    @BeforeAll
    static void publish() throws Exception {
        keys = new DkimKeys(dir.resolve("dkim")).rotate("a.test", LocalDate.of(2026, 12, 1));
        records = new MailDnsRecords("a.test", "mx.a.test", "owner.a.test", MailDnsRecords.Ports.standard(), keys,
                "postmaster@a.test", "20261201T090000");
        List<String> zone = new ArrayList<>(records.zoneLines());
        zone.add("mx.a.test. 3600 IN A 127.0.0.1");
        knot = KnotServer.start(dir.resolve("knot"), "test.", KnotServer.testZone(zone.toArray(String[]::new)));
    }

    @AfterAll
    static void stop() throws Exception {
        knot.close();
    }

    @Test
    void mxSpfDmarcMtaStsAndTlsRptAreServed() throws Exception {
        assertThat(ask("a.test", Type.MX)).singleElement().satisfies(r ->
                assertThat(((MXRecord) r).getTarget().toString()).isEqualTo("mx.a.test."));
        assertThat(texts("a.test")).containsExactly("v=spf1 mx -all");
        assertThat(texts("mx.a.test")).containsExactly("v=spf1 a -all");
        assertThat(texts("_dmarc.a.test")).containsExactly(
                "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:postmaster@a.test");
        assertThat(texts("_mta-sts.a.test")).containsExactly("v=STSv1; id=20261201T090000");
        assertThat(texts("_smtp._tls.a.test")).containsExactly("v=TLSRPTv1; rua=mailto:postmaster@a.test");
    }

    @Test
    void clientsFindSubmissionAndImapsOnThePrivateHostAndNoPlainImap() throws Exception {
        assertThat(srv("_submissions._tcp.a.test")).isEqualTo("owner.a.test.:465");
        assertThat(srv("_submission._tcp.a.test")).isEqualTo("owner.a.test.:587");
        assertThat(srv("_imaps._tcp.a.test")).isEqualTo("owner.a.test.:993");
        assertThat(srv("_imap._tcp.a.test")).isEqualTo(".:0");
    }

    @Test
    void aSignedMessageVerifiesAgainstTheKeysTheServerAnswers() throws Exception {
        // Both keys are in DNS, the RSA one as more than one string.
        assertThat(ask(keys.get(0).dnsName(), Type.TXT)).singleElement().satisfies(r ->
                assertThat(((TXTRecord) r).getStrings()).hasSizeGreaterThan(1));
        String message = "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: published\r\n\r\nHello.\r\n";
        String signed = DkimSigner.sign(message.getBytes(StandardCharsets.UTF_8), keys, Instant.now()) + message;
        Path script = Path.of("src/test/python/dkim_verify.py").toAbsolutePath();
        String args = JSON.writeValueAsString(Map.of("dns", Map.of("host", "127.0.0.1", "port", knot.port()),
                "message_b64", Base64.getEncoder().encodeToString(signed.getBytes(StandardCharsets.UTF_8))));
        Process p = new ProcessBuilder("python3", script.toString(), args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        JsonNode result = JSON.readTree(out);
        assertThat(result.findValuesAsText("algorithm")).containsExactly("rsa-sha256", "ed25519-sha256");
        assertThat(result.findValues("valid")).extracting(JsonNode::asBoolean).containsExactly(true, true);
    }

    @Test
    void namesThatWouldBreakTheZoneAreRefusedByField() {
        var ports = MailDnsRecords.Ports.standard();
        assertThatThrownBy(() -> new MailDnsRecords("a.test\" IN A 1.2.3.4", "mx.a.test",
                "owner.a.test", ports, keys, "postmaster@a.test", "1")).hasMessage("domain: not a host name: a.test\" IN A 1.2.3.4");
        assertThatThrownBy(() -> new MailDnsRecords("a.test", "mx.a.test", "owner.a.test",
                ports, keys, "x\"; p=none@a.test", "1")).hasMessageStartingWith("reports: not a mailbox");
        assertThatThrownBy(() -> new MailDnsRecords("a.test", "mx.a.test", "owner.a.test",
                ports, keys, "postmaster@a.test", "2026-12-01")).hasMessageStartingWith("policyId:");
    }

    private static List<Record> ask(String name, int type) throws Exception {
        Lookup l = new Lookup(name + ".", type);
        l.setResolver(knot.resolver(Duration.ofSeconds(2)));
        l.setCache(null);
        Record[] answers = l.run();
        assertThat(l.getResult()).as(name + " " + Type.string(type) + ": " + l.getErrorString()).isEqualTo(Lookup.SUCCESSFUL);
        return List.of(answers);
    }

    private static List<String> texts(String name) throws Exception {
        return ask(name, Type.TXT).stream().map(r -> String.join("", ((TXTRecord) r).getStrings())).toList();
    }

    private static String srv(String name) throws Exception {
        SRVRecord r = (SRVRecord) ask(name, Type.SRV).get(0);
        return r.getTarget() + ":" + r.getPort();
    }
}
