package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ZeroTierSettingsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()).registerModule(new Jdk8Module());

    @Test
    void anEmptySectionTakesTheDefaultsOfAStockInstall() throws Exception {
        ZeroTierSettings bound = YAML.readValue("{}", ZeroTierSettings.class);

        assertThat(bound).isEqualTo(ZeroTierSettings.defaults());
        assertThat(bound.network()).isEmpty();
        assertThat(bound.api()).isEqualTo("127.0.0.1:9993");
        assertThat(bound.home()).isEqualTo(Path.of("/var/lib/zerotier-one"));
    }

    @Test
    void bindsTheKeysOfTheConfigSection() throws Exception {
        ZeroTierSettings bound = YAML.readValue("""
                network: 8056C2E21C000001
                api: 127.0.0.1:19993
                home: /srv/zerotier-one
                """, ZeroTierSettings.class);

        assertThat(bound).isEqualTo(new ZeroTierSettings(Optional.of("8056c2e21c000001"), "127.0.0.1:19993",
                Path.of("/srv/zerotier-one")));
    }

    @Test
    void rejectsANetworkIdThatIsNotSixteenHexDigitsNamingTheFieldAndValue() {
        assertThatThrownBy(() -> new ZeroTierSettings(Optional.of("8056c2e21c00001"), null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("overlay.zerotier.network: must be a 16-digit hex ZeroTier network id such as "
                        + "8056c2e21c000001, not \"8056c2e21c00001\"");
        assertThatThrownBy(() -> new ZeroTierSettings(Optional.of("8056c2e21c00000g"), null, null))
                .hasMessageContaining("overlay.zerotier.network").hasMessageContaining("\"8056c2e21c00000g\"");
    }

    @Test
    void rejectsABadNetworkIdWhileBinding() {
        assertThatThrownBy(() -> YAML.readValue("network: my-home-network", ZeroTierSettings.class))
                .rootCause()
                .hasMessageContaining("overlay.zerotier.network")
                .hasMessageContaining("\"my-home-network\"");
    }

    @Test
    void rejectsAnApiThatIsNotHostAndPort() {
        assertThatThrownBy(() -> new ZeroTierSettings(Optional.empty(), "http://127.0.0.1:9993/", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("overlay.zerotier.api: must be host:port such as 127.0.0.1:9993, "
                        + "not \"http://127.0.0.1:9993/\"");
        assertThatThrownBy(() -> new ZeroTierSettings(Optional.empty(), "127.0.0.1", null))
                .hasMessageContaining("overlay.zerotier.api");
    }
}
