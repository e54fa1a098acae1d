package org.hearth.core.supervisor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which overlay addresses the box publishes for its private hosts (PairedHomesTest shows the rest, end to end). */
class PairingSetupTest {

    @Test
    void privateNetworksAreRfc1918TheSharedSpaceAndUniqueLocalIpv6() {
        assertThat(PairingSetup.inPrivateNetwork("10.86.0.1")).isTrue();
        assertThat(PairingSetup.inPrivateNetwork("172.31.255.1")).isTrue();
        assertThat(PairingSetup.inPrivateNetwork("192.168.1.20")).isTrue();
        assertThat(PairingSetup.inPrivateNetwork("100.64.0.1")).isTrue();
        assertThat(PairingSetup.inPrivateNetwork("100.127.255.254")).isTrue();
        assertThat(PairingSetup.inPrivateNetwork("fd86::1")).isTrue();

        assertThat(PairingSetup.inPrivateNetwork("127.0.0.2")).as("the development loopback overlay").isFalse();
        assertThat(PairingSetup.inPrivateNetwork("100.63.255.255")).isFalse();
        assertThat(PairingSetup.inPrivateNetwork("100.128.0.1")).isFalse();
        assertThat(PairingSetup.inPrivateNetwork("172.32.0.1")).isFalse();
        assertThat(PairingSetup.inPrivateNetwork("198.18.50.1")).isFalse();
        assertThat(PairingSetup.inPrivateNetwork("fe80::1")).isFalse();
        assertThat(PairingSetup.inPrivateNetwork("fec0::1")).as("IPv6's old site-local, which the registry refuses").isFalse();
        assertThat(PairingSetup.inPrivateNetwork("2001:db8::1")).isFalse();
    }
}
