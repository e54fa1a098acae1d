package org.hearth.core;

import org.hearth.core.certificates.AcmeConfig;
import org.hearth.core.network.RelayConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApplianceConfigTest {

    @TempDir
    Path state;

    private ApplianceConfig read(String yaml) throws Exception {
        Files.writeString(state.resolve(ApplianceConfig.FILE), yaml);
        return ApplianceConfig.read(new HearthHome(state, state));
    }

    @Test
    void noFileMeansTheLoopbackOverlayAndWireGuardDefaults() {
        ApplianceConfig config = ApplianceConfig.read(new HearthHome(state, state));

        assertThat(config.overlay().provider()).isEqualTo("loopback");
        assertThat(config.overlay().wireguard().device()).isEqualTo("hearth-wg");
        assertThat(config.overlay().wireguard().network()).isEqualTo("10.84.0.0/24");
        assertThat(config.overlay().wireguard().listenPort()).isEqualTo(51820);
    }

    @Test
    void readsTheWireGuardSection() throws Exception {
        ApplianceConfig config = read("""
                overlay:
                  provider: wireguard
                  wireguard:
                    network: 10.90.0.0/24
                    listen-port: 51999
                    endpoint: home.example.org:51999
                    socket-namespace: wan
                """);

        assertThat(config.overlay().provider()).isEqualTo("wireguard");
        assertThat(config.overlay().wireguard().prefix().host(1).getHostAddress()).isEqualTo("10.90.0.1");
        assertThat(config.overlay().wireguard().endpoint()).contains("home.example.org:51999");
        assertThat(config.overlay().wireguard().socketNamespace()).contains("wan");
    }

    @Test
    void readsTheRegistryAndRefusesWhatIsNotOne() throws Exception {
        assertThat(ApplianceConfig.read(new HearthHome(state, state)).registry().url()).isEmpty();
        assertThat(read("registry:\n  url: https://boxes.example.net/\n").registry().url().orElseThrow())
                .hasToString("https://boxes.example.net");
        assertThatThrownBy(() -> read("registry:\n  url: ftp://boxes.example.net\n"))
                .hasMessageContaining("registry.url: an https:// URL");
        assertThatThrownBy(() -> read("registry:\n  url: https://boxes.example.net/pair\n"))
                .hasMessageContaining("without a path");
        assertThatThrownBy(() -> read("registry:\n  adress: https://boxes.example.net\n"))
                .hasMessageContaining("adress");
    }

    @Test
    void certificatesComeFromLetsEncryptUnlessAnotherCaIsNamed() throws Exception {
        assertThat(ApplianceConfig.read(new HearthHome(state, state)).acme().directory()).isEqualTo(AcmeConfig.LETS_ENCRYPT);
        ApplianceConfig pebble = read("acme:\n  directory: https://localhost:14000/dir\n  trust: /etc/pebble.pem\n");
        assertThat(pebble.acme().directory()).hasToString("https://localhost:14000/dir");
        assertThat(pebble.acme().trust()).contains(Path.of("/etc/pebble.pem"));
        assertThatThrownBy(() -> read("acme:\n  directory: http://localhost:14000/dir\n"))
                .hasMessageContaining("acme.directory: an ACME server's https:// directory URL is needed");
    }

    @Test
    void theOwnerAppListensOn443OfTheOverlayUnlessTold() throws Exception {
        assertThat(ApplianceConfig.read(new HearthHome(state, state)).ownerApp().port()).isEqualTo(443);
        assertThat(read("owner-app:\n  port: 8443\n").ownerApp().port()).isEqualTo(8443);
        assertThat(read("owner-app:\n  port: 0\n").ownerApp().enabled()).isFalse();
        assertThatThrownBy(() -> read("owner-app:\n  port: 70000\n"))
                .hasMessageContaining("owner-app.port: a TCP port (1 to 65535, or 0 for none) is needed, not 70000");
        assertThatThrownBy(() -> read("owner_app:\n  port: 8443\n")).hasMessageContaining("owner_app");
    }

    @Test
    void readsTheZeroTierSection() throws Exception {
        ApplianceConfig config = read("""
                overlay:
                  provider: zerotier
                  zerotier:
                    network: 8056C2E21C000001
                """);

        assertThat(config.overlay().zerotier().network()).contains("8056c2e21c000001");
        assertThat(config.overlay().open(state, java.net.InetAddress.getLoopbackAddress()).name()).isEqualTo("zerotier");
    }

    @Test
    void aBadSettingNamesFileLineAndKey() {
        Path file = state.resolve(ApplianceConfig.FILE);
        assertThatThrownBy(() -> read("""
                overlay:
                  provider: wireguard
                  wireguard:
                    network: 10.90.0.1/24
                """)).hasMessage(file + ":3: overlay.wireguard: \"10.90.0.1/24\" has host bits set; the network is 10.90.0.0/24");
        assertThatThrownBy(() -> read("""
                overlay:
                  provider: tailscale
                """)).hasMessage(file + ":1: overlay: provider \"tailscale\" is not one of loopback, wireguard, zerotier");
        assertThatThrownBy(() -> read("""
                overlay:
                  wireguard:
                    listen_port: 1
                """)).hasMessageStartingWith(file + ":3: overlay.wireguard.listen_port: Unrecognized field \"listen_port\"");
    }

    @Test
    void theEgressResolverIsAnIpv4AddressOrAbsent() throws Exception {
        assertThat(ApplianceConfig.read(new HearthHome(state, state)).egress().resolver()).isEmpty();
        assertThat(read("egress:\n  resolver: 192.168.1.1\n").egress().resolver()).contains("192.168.1.1");

        Path file = state.resolve(ApplianceConfig.FILE);
        for (String bad : List.of("dns.example.org", "2001:db8::53", "192.168.1.300")) {
            assertThatThrownBy(() -> read("egress:\n  resolver: " + bad + "\n")).hasMessage(file + ":1: egress: resolver \""
                    + bad + "\" must be an IPv4 address (for example 192.168.1.1)");
        }
    }

    @Test
    void aRelayNeedsAHostAndTakesTheSubmissionPortUnlessTold() throws Exception {
        assertThat(ApplianceConfig.read(new HearthHome(state, state)).egress().relay()).isEmpty();
        RelayConfig relay = read("egress:\n  relay:\n    host: SMTP.Provider.example\n    username: me@provider.example\n")
                .egress().relay().orElseThrow();
        assertThat(relay.host()).isEqualTo("smtp.provider.example");
        assertThat(relay.port()).isEqualTo(587);
        assertThat(relay.implicitTls()).isFalse();
        assertThat(relay.username()).contains("me@provider.example");
        assertThat(relay.address()).isEmpty();
        RelayConfig tls = read("egress:\n  relay:\n    host: 192.0.2.25\n    port: 465\n").egress().relay().orElseThrow();
        assertThat(tls.implicitTls()).isTrue();
        assertThat(tls.address()).contains("192.0.2.25");

        Path file = state.resolve(ApplianceConfig.FILE);
        assertThatThrownBy(() -> read("egress:\n  relay:\n    port: 587\n")).hasMessageContaining(file + ":")
                .hasMessageContaining("relay.host is missing");
        assertThatThrownBy(() -> read("egress:\n  relay:\n    host: smtp.example\n    port: 25\n"))
                .hasMessageContaining("relay.port 25 is the port a relay is there to avoid");
        assertThatThrownBy(() -> read("egress:\n  relay:\n    host: smtp.example\n    password: hunter2\n"))
                .hasMessageContaining(file + ":4:").hasMessageContaining("password");
        assertThatThrownBy(() -> read("egress:\n  relay:\n    host: smtp.example\n    trust: /nonexistent/ca.pem\n"))
                .hasMessageContaining("relay.trust /nonexistent/ca.pem is not a file");
    }
}
