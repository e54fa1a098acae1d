package org.hearth.mail.webmail;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class MessageViewTest {

    private static MimeMessage parse(String text) throws Exception {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theHtmlAlternativeIsTheBodyItsInlineImageIsNotAnAttachmentAndTheFileIs() throws Exception {
        MimeMessage m = parse("""
                From: Bob <bob@b.test>
                To: alice@a.test
                Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
                Message-ID: <m1@b.test>
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary=outer

                --outer
                Content-Type: multipart/alternative; boundary=alt

                --alt
                Content-Type: text/plain; charset=utf-8

                plain
                --alt
                Content-Type: multipart/related; boundary=rel

                --rel
                Content-Type: text/html; charset=utf-8

                <p>html <img src="cid:logo@b"></p>
                --rel
                Content-Type: image/png
                Content-ID: <logo@b>
                Content-Transfer-Encoding: base64

                iVBORw0KGgo=
                --rel--
                --alt--
                --outer
                Content-Type: application/pdf; name="../../etc/report.pdf"
                Content-Disposition: attachment; filename="../../etc/report.pdf"
                Content-Transfer-Encoding: base64

                JVBERg==
                --outer--
                """);
        MessageView v = MessageView.of("INBOX", 7, m);
        assertThat(v.subject()).isEqualTo("Grüße");
        assertThat(v.body()).isInstanceOf(MessageView.Body.Html.class);
        assertThat(((MessageView.Body.Html) v.body()).html().strip()).isEqualTo("<p>html <img src=\"cid:logo@b\"></p>");
        assertThat(v.inlineByContentId()).containsEntry("logo@b", "1.2.2");
        assertThat(v.attachments()).containsExactly(new MessageView.Attachment("2", "report.pdf", "application/pdf", v.attachments().get(0).size()));
        assertThat(v.servesPart("2")).isTrue();
        assertThat(v.servesPart("1.1")).as("the text is not served alone").isFalse();
        assertThat(MessageView.part(m, "1.2.2")).isPresent();
        assertThat(MessageView.part(m, "9")).isEmpty();
        assertThat(MessageView.part(m, "1.x")).isEmpty();
    }

    @Test
    void aPlainMessageInAnotherCharsetReadsRightWithUnixLineEnds() throws Exception {
        MimeMessage m = parse("""
                From: bob@b.test
                Subject: x
                Content-Type: text/plain; charset=iso-8859-1
                Content-Transfer-Encoding: quoted-printable

                caf=E9
                line two
                """);
        MessageView v = MessageView.of("INBOX", 1, m);
        assertThat(v.body()).isEqualTo(new MessageView.Body.Text("café\nline two\n"));
        assertThat(v.attachments()).isEmpty();
    }
}
