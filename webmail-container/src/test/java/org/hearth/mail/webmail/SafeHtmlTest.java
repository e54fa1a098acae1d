package org.hearth.mail.webmail;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SafeHtmlTest {

    private static SafeHtml.Result clean(String html, boolean remote) {
        return SafeHtml.clean(html, Map.of("logo@x", "data:image/png;base64,AAAA"), remote);
    }

    @Test
    void scriptsEventHandlersAndDangerousUrlsAreRemoved() {
        String out = clean("<p onclick=\"alert(1)\">hi</p><script>alert(2)</script><img src=x onerror=alert(3)>"
                + "<a href=\"javascript:alert(4)\">x</a><iframe src=\"https://evil.test\"></iframe><svg><script>alert(5)</script></svg>"
                + "<form action=\"https://evil.test\"><input name=p></form><object data=\"x.swf\"></object>", false).html();
        assertThat(out).doesNotContainIgnoringCase("alert").doesNotContainIgnoringCase("script")
                .doesNotContainIgnoringCase("iframe").doesNotContainIgnoringCase("javascript:").doesNotContainIgnoringCase("<form")
                .doesNotContainIgnoringCase("onerror").doesNotContainIgnoringCase("object").contains("<p>hi</p>");
    }

    @Test
    void remoteImagesAreHeldBackUntilAllowedAndCounted() {
        String html = "<img src=\"https://tracker.test/pixel.gif\" width=1><div style=\"background:url(https://t.test/a.png)\">x</div>"
                + "<table><tr><td background=\"https://t.test/b.png\">y</td></tr></table>";
        SafeHtml.Result blocked = clean(html, false);
        assertThat(blocked.html()).doesNotContain("tracker.test").doesNotContain("t.test");
        assertThat(blocked.blockedRemote()).isEqualTo(3);
        SafeHtml.Result allowed = clean(html, true);
        assertThat(allowed.html()).contains("https://tracker.test/pixel.gif").contains("url(https://t.test/a.png)");
    }

    @Test
    void inlineImagesPointAtTheMessagesOwnPartsAndUnknownOnesAtNothing() {
        String out = clean("<img src=\"cid:logo@x\"><img src=\"cid:missing@x\">", false).html();
        assertThat(out).contains("src=\"data:image/png;base64,AAAA\"").doesNotContain("missing");
    }

    @Test
    void cssThatRunsOrImportsIsDroppedEvenWhenRemoteLoadsAreAllowed() {
        String out = clean("<div style=\"width:expression(alert(1))\">a</div><p style=\"-moz-binding:url(x.xml#y)\">b</p>", true).html();
        assertThat(out).doesNotContain("expression").doesNotContain("binding");
    }

    @Test
    void linksOpenOutsideTheFrameWithoutTellingWhereFrom() {
        String out = clean("<a href=\"https://example.test/\">site</a>", false).html();
        assertThat(out).contains("target=\"_blank\"").contains("rel=\"noopener noreferrer\"");
    }
}
