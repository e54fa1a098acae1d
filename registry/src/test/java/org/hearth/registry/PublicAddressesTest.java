package org.hearth.registry;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class PublicAddressesTest {

    private final PublicAddresses internet = new PublicAddresses(false);

    @Test
    void onlyLiteralPublicUnicastAddressesPass() {
        assertThat(internet.parse("93.184.215.14")).isPresent();
        assertThat(internet.parse("2a00:1450:4001:82a::200e")).isPresent();
        for (String special : new String[]{"10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.1.1", "172.20.0.1", "192.168.1.20",
                "192.0.2.1", "198.51.100.7", "203.0.113.9", "0.1.2.3", "224.0.0.1", "255.255.255.255", "240.0.0.1",
                "::1", "::", "fe80::1", "fd00::1", "ff02::1", "64:ff9b::a00:1", "2002:a00:1::1", "2001::1", "::ffff:10.0.0.1",
                "::ffff:93.184.215.14", "example.org", "1.2.3", "198.18.0.1", "2001:db8::1"}) {
            assertThat(internet.parse(special)).as(special).isEmpty();
        }
    }

    @Test
    void aTestWorldMayUseTheBenchmarkingAndDocumentationBlocks() {
        PublicAddresses testWorld = new PublicAddresses(true);
        assertThat(testWorld.parse("198.18.7.1")).isPresent();
        assertThat(testWorld.parse("2001:db8:7::1")).isPresent();
        assertThat(testWorld.parse("192.168.1.20")).isEmpty();
    }

    @Test
    void anIpv6ClientCountsByItsSlash64AndEveryoneTogetherHasACeiling() {
        RateLimit limit = new RateLimit(2, 5, Duration.ofHours(1));
        Instant now = Instant.parse("2026-12-02T12:00:00Z");
        assertThat(limit.allow("2001:db8:1:2::1", now)).isTrue();
        assertThat(limit.allow("2001:db8:1:2::ffff", now)).isTrue();
        assertThat(limit.allow("2001:db8:1:2:aaaa::3", now)).as("the same /64").isFalse();
        assertThat(limit.allow("2001:db8:1:3::1", now)).isTrue();
        assertThat(limit.allow("198.18.0.1", now)).isTrue();
        assertThat(limit.allow("198.18.0.2", now)).isTrue();
        assertThat(limit.allow("198.18.0.3", now)).as("five in all").isFalse();
        assertThat(limit.allow("198.18.0.3", now.plus(Duration.ofHours(1)))).as("a new window").isTrue();
    }
}
