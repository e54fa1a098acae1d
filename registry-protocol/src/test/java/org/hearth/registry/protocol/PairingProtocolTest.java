package org.hearth.registry.protocol;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PairingProtocolTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void aCodeReadsBackHoweverItIsTyped() {
        PairingCode code = PairingCode.random();
        String shown = code.format();
        assertThat(shown).matches("([A-Z2-7]{4}-){7}[A-Z2-7]{4}");
        assertThat(PairingCode.parse(shown)).isEqualTo(code);
        assertThat(PairingCode.parse("abcdefghijklmnopqrstuvwxyz234567").format()).isEqualTo("ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567");
        assertThat(PairingCode.parse(shown.toLowerCase().replace("-", " "))).isEqualTo(code);
        assertThat(code.toString()).doesNotContain(shown.substring(0, 4));
    }

    @Test
    void aMistypedCodeIsNamedAsSuch() {
        String shown = PairingCode.random().format();
        assertThatThrownBy(() -> PairingCode.parse(shown.substring(1))).hasMessageContaining("32 letters");
        assertThatThrownBy(() -> PairingCode.parse(shown.replace(shown.charAt(0), '1'))).hasMessageContaining("32 letters");
    }

    @Test
    void hkdfIsRfc5869() {
        // RFC 5869, appendix A.1.
        byte[] okm = PairingKeys.hkdf(HEX.parseHex("0b".repeat(22)), HEX.parseHex("000102030405060708090a0b0c"),
                HEX.parseHex("f0f1f2f3f4f5f6f7f8f9"), 42);
        assertThat(HEX.formatHex(okm))
                .isEqualTo("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    }

    @Test
    void aKnownCodeGivesKnownKeys() {
        // Computed apart (Python's hmac: HKDF by hand over 20 zero bytes); the owner app's WebCrypto gives it too.
        PairingKeys keys = PairingKeys.of(PairingCode.parse("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"));
        assertThat(keys.channel()).isEqualTo("7030573ba5f04be678632db6fce011be");
        assertThat(keys.channel()).isEqualTo(PairingKeys.of(PairingCode.parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).channel());
        assertThat(keys.channel()).isNotEqualTo(PairingKeys.of(PairingCode.random()).channel());
        assertThat(HEX.formatHex(keys.closeToken())).doesNotContain(keys.channel());
    }

    @Test
    void whatOneEndSealsTheOtherOpens() throws Exception {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        String sealed = keys.toBox().seal(1, "{\"type\":\"hello\"}");
        assertThat(sealed).doesNotContain("hello");
        assertThat(keys.toBox().open(1, sealed)).isEqualTo("{\"type\":\"hello\"}");
    }

    @Test
    void anAlteredMessageFails() {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        String sealed = keys.toBox().seal(1, "{\"name\":\"alice\"}");
        String[] parts = sealed.split("\\.");
        char[] data = parts[3].toCharArray();
        data[3] = data[3] == 'A' ? 'B' : 'A';
        String altered = parts[0] + "." + parts[1] + "." + parts[2] + "." + new String(data);
        assertThatThrownBy(() -> keys.toBox().open(1, altered)).isInstanceOf(PairingSeal.TamperedException.class)
                .hasMessageContaining("failed authentication");
    }

    @Test
    void aReplayedReorderedOrReflectedMessageFails() {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        String first = keys.toBox().seal(1, "one");
        assertThatThrownBy(() -> keys.toBox().open(2, first)).isInstanceOf(PairingSeal.TamperedException.class);
        // The sequence number rewritten to fit: the associated data still says 1.
        assertThatThrownBy(() -> keys.toBox().open(2, first.replaceFirst("^v1\\.1\\.", "v1.2.")))
                .isInstanceOf(PairingSeal.TamperedException.class);
        assertThatThrownBy(() -> keys.toPhone().open(1, first)).isInstanceOf(PairingSeal.TamperedException.class);
        assertThatThrownBy(() -> PairingKeys.of(PairingCode.random()).toBox().open(1, first))
                .isInstanceOf(PairingSeal.TamperedException.class);
        assertThatThrownBy(() -> keys.toBox().open(1, "not a message")).isInstanceOf(PairingSeal.TamperedException.class);
    }
}
