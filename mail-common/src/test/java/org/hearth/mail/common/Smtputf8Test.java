package org.hearth.mail.common;

import org.apache.james.core.MailAddress;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** RFC 6531's address grammar and RFC 6532's header test, as the SMTP and LMTP servers use them. */
class Smtputf8Test {

    @Test
    void aNonAsciiAddressKeepsItsTextAndComparesAsJamesAddressesDo() throws Exception {
        MailAddress a = Smtputf8.address("Jörg.Müller+tag@bücher.example");
        assertThat(a.asString()).isEqualTo("Jörg.Müller+tag@bücher.example");
        assertThat(a.getLocalPart()).isEqualTo("Jörg.Müller+tag");
        assertThat(a.getDomain().asString()).isEqualTo("bücher.example");
        assertThat(a).isEqualTo(Smtputf8.address("jörg.müller+tag@BÜCHER.example"));
        // ASCII takes James's own parser, unchanged.
        assertThat(Smtputf8.address("alice@a.test")).isEqualTo(new MailAddress("alice@a.test")).isExactlyInstanceOf(MailAddress.class);
    }

    @Test
    void whatIsNoAddressIsRefusedWithTheReason() {
        assertThatThrownBy(() -> Smtputf8.address("jö..rg@a.test")).hasMessageContaining("empty dot-separated part");
        assertThatThrownBy(() -> Smtputf8.address("jö rg@a.test")).hasMessageContaining("U+0020");
        assertThatThrownBy(() -> Smtputf8.address("jö\u202erg@a.test")).hasMessageContaining("U+202E");
        // Letters that show as nothing: an alias "jörg\u3164" would look like "jörg".
        assertThatThrownBy(() -> Smtputf8.address("jörg\u3164@a.test")).hasMessageContaining("U+3164");
        assertThatThrownBy(() -> Smtputf8.address("jörg\ufe0f@a.test")).hasMessageContaining("U+FE0F");
        assertThatThrownBy(() -> Smtputf8.address("\"jö rg\"@a.test")).hasMessageContaining("quoted local part");
        assertThatThrownBy(() -> Smtputf8.address("jörg")).hasMessageContaining("is not local-part@domain");
        assertThatThrownBy(() -> Smtputf8.address("jörg@-a.test")).hasMessageContaining("is not a domain name");
        assertThatThrownBy(() -> Smtputf8.address("jörg@faß.de")).hasMessageContaining("U+00DF")
                .hasMessageContaining("IDNA2003 and IDNA2008 read differently");
        assertThatThrownBy(() -> Smtputf8.address("ö".repeat(33) + "@a.test")).hasMessageContaining("longer than 64 octets");
        String notUtf8 = new String("j\u00f6rg@a.test".getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Smtputf8.address(notUtf8)).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void onlyValidUtf8InTheHeaderSectionNeedsSmtputf8() {
        assertThat(Smtputf8.utf8Headers("Subject: Grüße".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(Smtputf8.utf8Headers("Subject: hello".getBytes(StandardCharsets.UTF_8))).isFalse();
        // Legacy 8-bit text (here Latin-1) is no UTF-8: 8BITMIME has always carried it.
        assertThat(Smtputf8.utf8Headers("Subject: Grüße".getBytes(StandardCharsets.ISO_8859_1))).isFalse();
        assertThat(Smtputf8.headerText("Grüße".getBytes(StandardCharsets.ISO_8859_1))).isEqualTo("Grüße");
        assertThat(Smtputf8.headerText("Grüße".getBytes(StandardCharsets.UTF_8))).isEqualTo("Grüße");
    }

    @Test
    void addressesCompareLowerCaseAndComposed() {
        assertThat(Smtputf8.comparable("ZOE\u0308@D.example")).isEqualTo("zoë@d.example");
        assertThat(Smtputf8.comparable("zoë@Bücher.example")).isEqualTo("zoë@xn--bcher-kva.example");
    }
}
