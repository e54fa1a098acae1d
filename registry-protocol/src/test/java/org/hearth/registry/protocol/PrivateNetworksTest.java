package org.hearth.registry.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The private networks whose addresses a box publishes for its owner-only hosts, and the registry takes. */
class PrivateNetworksTest {

    @Test
    void rfc1918TheSharedSpaceAndUniqueLocalIpv6AreInsideAndNothingNextToThem() {
        for (String inside : new String[]{"10.86.0.1", "172.31.255.1", "192.168.1.20", "100.64.0.1", "100.127.255.254",
                "fd86::1", "fc00::1"}) {
            assertThat(PrivateNetworks.contains(inside)).as(inside).isTrue();
        }
        for (String outside : new String[]{"127.0.0.2", "100.63.255.255", "100.128.0.1", "172.32.0.1", "198.18.50.1",
                "fe80::1", "fec0::1", "2001:db8::1", "::ffff:10.0.0.1", "mail.example.test", "10.0.0.256", ""}) {
            assertThat(PrivateNetworks.contains(outside)).as(outside).isFalse();
        }
    }
}
