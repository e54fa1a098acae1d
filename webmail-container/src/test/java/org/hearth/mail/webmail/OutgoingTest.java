package org.hearth.mail.webmail;

import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutgoingTest {

    private final Outgoing outgoing = new Outgoing(new MailServers(InetSocketAddress.createUnresolved("imap", 1143),
            InetSocketAddress.createUnresolved("imap", 2465), InetSocketAddress.createUnresolved("outbound", 1587), Duration.ofSeconds(5)));
    private final OwnerSession alice = new OwnerSession("id", "alice@a.test", "pw", Set.of("alice@a.test", "info@a.test"), "t",
            Instant.now());

    private static Pages.Draft draft(String from, String to, String subject) {
        return new Pages.Draft(from, to, "", "", subject, "Hello", "<orig@b.test>", "<root@b.test> <orig@b.test>", "", "");
    }

    @Test
    void aReplyCarriesItsThreadAndAnIdOfTheSendersDomain() throws Exception {
        MimeMessage m = outgoing.build(alice, draft("info@a.test", "Bob <bob@b.test>, carol@c.test", "Re: plans"), List.of(), Optional.empty(), false);
        assertThat(m.getHeader("In-Reply-To")[0]).isEqualTo("<orig@b.test>");
        assertThat(m.getHeader("References")[0]).isEqualTo("<root@b.test> <orig@b.test>");
        assertThat(m.getMessageID()).endsWith("@a.test>");
        assertThat(m.getRecipients(Message.RecipientType.TO)).hasSize(2);
        assertThat(m.getFrom()[0].toString()).isEqualTo("info@a.test");
    }

    @Test
    void onlyTheOwnersOwnAddressesMayBeTheSender() {
        assertThatThrownBy(() -> outgoing.build(alice, draft("boss@a.test", "bob@b.test", "x"), List.of(), Optional.empty(), false))
                .isInstanceOf(Outgoing.Refused.class).hasMessageContaining("boss@a.test is not one of your addresses");
    }

    @Test
    void aBadAddressIsNamedWithItsField() {
        assertThatThrownBy(() -> outgoing.build(alice, draft("alice@a.test", "bob@b.test, not an address", "x"), List.of(), Optional.empty(), false))
                .isInstanceOf(Outgoing.Refused.class).hasMessageStartingWith("To: ");
        assertThatThrownBy(() -> outgoing.build(alice, draft("alice@a.test", "", "x"), List.of(), Optional.empty(), false))
                .isInstanceOf(Outgoing.Refused.class).hasMessageContaining("at least one recipient");
    }

    @Test
    void attachmentsAndAForwardedMessageTravelWithTheirNamesAndTypes(@TempDir Path dir) throws Exception {
        Path pdf = Files.write(dir.resolve("u1"), new byte[]{'%', 'P', 'D', 'F'});
        byte[] original = "From: bob@b.test\r\nSubject: hi\r\n\r\nbody\r\n".getBytes();
        MimeMessage m = outgoing.build(alice, draft("alice@a.test", "bob@b.test", "Fwd: hi"),
                List.of(new Outgoing.Upload("Plan é.pdf", "application/pdf", pdf)), Optional.of(original), false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.writeTo(out);
        MimeMessage read = new MimeMessage(null, new java.io.ByteArrayInputStream(out.toByteArray()));
        Multipart mp = (Multipart) read.getContent();
        assertThat(mp.getCount()).isEqualTo(3);
        assertThat(mp.getBodyPart(1).getFileName()).isEqualTo("Plan é.pdf");
        assertThat(mp.getBodyPart(1).getContentType()).startsWith("application/pdf");
        assertThat(mp.getBodyPart(2).getContentType()).startsWith("message/rfc822");
        assertThat(mp.getBodyPart(2).getFileName()).isEqualTo("Fwd_ hi.eml");
    }
}
