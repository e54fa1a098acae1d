package org.hearth.core.pairing;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ZoneRecordsTest {

    private static final String DOMAIN = "alice.boxes.example";

    @Test
    void zoneLinesBecomeRecordsUnderTheBoxsName() {
        List<Map<String, String>> records = ZoneRecords.of(DOMAIN, List.of(
                "; DNS records for alice.boxes.example (zone file lines). Also needed: A/AAAA ...",
                "alice.boxes.example. 3600 IN MX 10 mx.alice.boxes.example.",
                "mx.alice.boxes.example. 3600 IN TXT \"v=spf1 a -all\"",
                "hearth1._domainkey.alice.boxes.example. 3600 IN TXT \"v=DKIM1; k=rsa; p=MIIB\" \"IjANBg\"",
                "_imap._tcp.Alice.Boxes.Example. 3600 IN SRV 0 0 0 .",
                ""));

        assertThat(records).containsExactly(
                Map.of("owner", "@", "type", "MX", "data", "10 mx.alice.boxes.example."),
                Map.of("owner", "mx", "type", "TXT", "data", "\"v=spf1 a -all\""),
                Map.of("owner", "hearth1._domainkey", "type", "TXT", "data", "\"v=DKIM1; k=rsa; p=MIIB\" \"IjANBg\""),
                Map.of("owner", "_imap._tcp", "type", "SRV", "data", "0 0 0 ."));
    }

    @Test
    void aNameOutsideTheBoxsOrAMalformedLineIsNamed() {
        assertThatThrownBy(() -> ZoneRecords.of(DOMAIN, List.of("mx.demo.hearth.test. 3600 IN TXT \"v=spf1 a -all\"")))
                .hasMessageContaining("mx.demo.hearth.test. is not under the box's name alice.boxes.example");
        assertThatThrownBy(() -> ZoneRecords.of(DOMAIN, List.of("evilalice.boxes.example. 3600 IN TXT \"x\"")))
                .hasMessageContaining("is not under the box's name");
        assertThatThrownBy(() -> ZoneRecords.of(DOMAIN, List.of("alice.boxes.example. MX 10 mx")))
                .hasMessageContaining("not a zone line");
    }
}
