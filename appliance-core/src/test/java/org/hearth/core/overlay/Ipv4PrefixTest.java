package org.hearth.core.overlay;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Ipv4PrefixTest {

    @Test
    void hostsAreNumberedFromTheNetworkAddress() throws Exception {
        Ipv4Prefix p = Ipv4Prefix.parse("10.84.0.0/24");

        assertThat(p.host(1)).isEqualTo(InetAddress.getByName("10.84.0.1"));
        assertThat(p.host(254)).isEqualTo(InetAddress.getByName("10.84.0.254"));
        assertThat(p.contains(InetAddress.getByName("10.84.0.77"))).isTrue();
        assertThat(p.contains(InetAddress.getByName("10.84.1.1"))).isFalse();
        assertThatThrownBy(() -> p.host(255)).hasMessageContaining("no host number 255");
    }

    @Test
    void anAddressOnAnInterfaceNamesItsNetwork() throws Exception {
        assertThat(Ipv4Prefix.of(InetAddress.getByName("10.147.17.23"), 20)).hasToString("10.147.16.0/20");
    }

    @Test
    void refusesHostBitsAndNonsense() {
        assertThatThrownBy(() -> Ipv4Prefix.parse("10.84.0.1/24")).hasMessage("\"10.84.0.1/24\" has host bits set; the network is 10.84.0.0/24");
        assertThatThrownBy(() -> Ipv4Prefix.parse("10.84.0.0")).hasMessageContaining("not an IPv4 prefix");
        assertThatThrownBy(() -> Ipv4Prefix.parse("10.300.0.0/16")).hasMessageContaining("not an IPv4 address");
        assertThatThrownBy(() -> Ipv4Prefix.parse("10.0.0.0/33")).hasMessageContaining("0..32");
    }
}
