package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.Engine;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.Cookie;
import com.microsoft.playwright.options.FormData;
import com.microsoft.playwright.options.RequestOptions;
import com.microsoft.playwright.options.ColorScheme;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The webmail in a real browser: Debian's Chromium, driven by Playwright, against the shipped mail
 * manifest on the real engine. Mail arrives by swaks on the public SMTP port; what the webmail
 * sent and moved is checked with Python's imaplib, a client the webmail does not share code with.
 * Every page the browser opens is watched: a dialog, a console error or a request to anything but
 * the webmail fails the test (the security promise: nothing runs, nothing loads from elsewhere).
 */
@Tag("engine")
@Tag("browser")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebmailTest {

    private static final String APP = "mail-web";
    private static final int SMTP_PORT = 47525;
    private static final int IMAP_PORT = 47143;
    private static final int WEBMAIL_PORT = EngineFixture.webmailPort(IMAP_PORT);
    private static final String BASE = "https://127.0.0.2:" + WEBMAIL_PORT;
    private static final String DOMAIN = "web.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String BOB = "bob@" + DOMAIN;
    private static final String PASSWORD = "alice-password-web";
    private static final String BOB_PASSWORD = "bob-password-web";
    private static final Path SCREENSHOTS = Path.of("target/screenshots");

    private static Engine engine;
    private static Path state;
    private static HearthCli hearth;
    private static NamespacedBrowser chromium;
    private static Browser browser;

    private BrowserContext context;
    /** What a page did that it must not: dialogs, console errors, requests elsewhere. */
    private final List<String> misdeeds = new ArrayList<>();

    @BeforeAll
    static void installMailAndStartTheBrowser() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        state = EngineFixture.newStateDir("webmail");
        hearth = new HearthCli(state);
        Path manifest = state.resolve(APP + ".yaml");
        Files.writeString(manifest, EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAP_PORT + 1));
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", manifest.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
        hearth.okWithInput(BOB_PASSWORD + "\n", "mail", "--app", APP, "user", "add", BOB);
        Await.until(Duration.ofSeconds(60), () -> Await.supervisorLog(state), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.2", WEBMAIL_PORT), 2000);
                return Optional.of(true);
            } catch (IOException e) {
                return Optional.empty();
            }
        });
        chromium = NamespacedBrowser.start(state, List.of(new InetSocketAddress("127.0.0.2", WEBMAIL_PORT)));
        browser = chromium.browser;
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() {
        if (chromium != null) {
            chromium.close();
        }
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        if (engine != null) {
            engine.close();
        }
    }

    @AfterEach
    void closeContext() {
        if (context != null) {
            context.close();
        }
    }

    /** A fresh browser profile at phone size (390 × 844) or desktop size, watched for misdeeds. */
    private Page newPage(boolean phone, ColorScheme scheme) {
        context = browser.newContext(new Browser.NewContextOptions().setIgnoreHTTPSErrors(true).setColorScheme(scheme)
                .setViewportSize(phone ? 390 : 1280, phone ? 844 : 800).setIsMobile(phone).setHasTouch(phone));
        context.onRequest(r -> {
            if (!r.url().startsWith(BASE + "/") && !r.url().startsWith("data:")) {
                misdeeds.add("request to " + r.url());
            }
        });
        Page page = context.newPage();
        page.onDialog(d -> {
            misdeeds.add("dialog: " + d.type() + " " + d.message());
            d.dismiss();
        });
        page.onConsoleMessage(m -> {
            if (m.type().equals("error")) {
                misdeeds.add("console error: " + m.text());
            }
        });
        page.onPageError(e -> misdeeds.add("page error: " + e));
        return page;
    }

    private Page loggedIn(boolean phone, String user, String password) {
        Page page = newPage(phone, ColorScheme.LIGHT);
        page.navigate(BASE + "/");
        assertThat(page.url()).isEqualTo(BASE + "/login");
        page.getByLabel("Address").fill(user);
        page.getByLabel("Password").fill(password);
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log in")).click();
        page.waitForURL(BASE + "/mail/INBOX");
        return page;
    }

    private static void deliver(String from, String to, String subject, String body) {
        MailClients.Swaks r = MailClients.swaks(List.of("--server", "127.0.0.1:" + SMTP_PORT, "--from", from, "--to", to,
                "--h-Subject", subject, "--body", body));
        assertThat(r.exitCode()).as(r.transcript()).isZero();
    }

    private static void deliverRaw(String from, String to, String message) throws IOException {
        Path file = state.resolve("raw-" + UUID.randomUUID() + ".eml");
        Files.writeString(file, message.replace("\n", "\r\n"));
        MailClients.Swaks r = MailClients.swaks(List.of("--server", "127.0.0.1:" + SMTP_PORT, "--from", from, "--to", to,
                "--data", "@" + file));
        assertThat(r.exitCode()).as(r.transcript()).isZero();
    }

    private static JsonNode fetch(String user, String password, String folder) {
        return MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT, "user", user, "password", password,
                "folder", folder));
    }

    private static Optional<JsonNode> messageWithSubject(JsonNode fetched, String subject) {
        for (JsonNode m : fetched.path("messages")) {
            if (m.path("subject").asText().equals(subject)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    private static JsonNode awaitMessage(String user, String password, String folder, String subject) throws Exception {
        return Await.until(Duration.ofSeconds(90), () -> Await.supervisorLog(state),
                () -> messageWithSubject(fetch(user, password, folder), subject));
    }

    private void screenshot(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve("webmail-" + name + ".png")).setFullPage(false));
    }

    @Test
    @Order(1)
    void theOwnersJourneyAtPhoneSize() throws Exception {
        String subject = "Lunch on Friday? " + UUID.randomUUID().toString().substring(0, 8);
        deliver(BOB, ALICE, subject, "Shall we meet at noon?\nBob");
        awaitMessage(ALICE, PASSWORD, "INBOX", subject);

        Page page = loggedIn(true, ALICE, PASSWORD);
        screenshot(page, "phone-inbox");
        page.getByText(subject).click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX/"));
        assertThat(page.locator(".plain").textContent()).contains("Shall we meet at noon?");
        screenshot(page, "phone-message");

        // Reply with an attachment: the other user gets it, and Sent keeps a copy.
        page.getByRole(com.microsoft.playwright.options.AriaRole.LINK, new Page.GetByRoleOptions().setName("Reply").setExact(true)).click();
        assertThat(page.getByLabel("To").inputValue()).contains(BOB);
        assertThat(page.getByLabel("Subject").inputValue()).isEqualTo("Re: " + subject);
        page.getByLabel("Message").press("Control+Home");
        page.getByLabel("Message").pressSequentially("Noon is good.");
        Path plan = state.resolve("plan.txt");
        Files.writeString(plan, "Table for two at noon\n");
        page.setInputFiles("#files", plan);
        screenshot(page, "phone-compose");
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Send")).click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX"));
        assertThat(page.locator(".notice").textContent()).isEqualTo("Sent.");

        JsonNode sent = awaitMessage(ALICE, PASSWORD, "Sent", "Re: " + subject);
        JsonNode arrived = awaitMessage(BOB, BOB_PASSWORD, "INBOX", "Re: " + subject);
        for (JsonNode copy : List.of(sent, arrived)) {
            String raw = new String(Base64.getDecoder().decode(copy.path("raw_b64").asText()), StandardCharsets.UTF_8);
            assertThat(raw).contains("Noon is good.").contains("filename=plan.txt").contains("In-Reply-To:");
        }

        // Search finds it by subject, and says so when nothing matches.
        page.getByLabel("Search INBOX").fill("Lunch on Friday");
        page.getByLabel("Search INBOX").press("Enter");
        assertThat(page.getByText(subject).count()).isEqualTo(1);
        page.getByLabel("Search INBOX").fill("no such words anywhere");
        page.getByLabel("Search INBOX").press("Enter");
        assertThat(page.locator(".empty").textContent()).isEqualTo("Nothing matches.");

        // Spam, and back: the message moves to Junk and out again.
        page.navigate(BASE + "/mail/INBOX");
        page.getByLabel("Select: " + subject).check();
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Spam").setExact(true)).click();
        assertThat(page.locator(".notice").textContent()).isEqualTo("1 message moved to Junk.");
        assertThat(messageWithSubject(fetch(ALICE, PASSWORD, "INBOX"), subject)).isEmpty();
        page.navigate(BASE + "/mail/Junk");
        page.getByLabel("Select: " + subject).check();
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Not spam")).click();
        assertThat(messageWithSubject(fetch(ALICE, PASSWORD, "INBOX"), subject)).isPresent();
        assertThat(messageWithSubject(fetch(ALICE, PASSWORD, "Junk"), subject)).isEmpty();

        assertThat(misdeeds).isEmpty();
    }

    @Test
    @Order(2)
    void theSameScreensWorkOnADesktopInDarkMode() {
        Page page = newPage(false, ColorScheme.DARK);
        page.navigate(BASE + "/login");
        page.getByLabel("Address").fill(ALICE);
        page.getByLabel("Password").fill(PASSWORD);
        page.getByLabel("Password").press("Enter");
        page.waitForURL(BASE + "/mail/INBOX");
        // The folders sit beside the list on a wide screen, with their unread counts.
        assertThat(page.locator("#folders").isVisible()).isTrue();
        assertThat(page.locator("#folders a[aria-current=page]").textContent()).startsWith("INBOX");
        String background = (String) page.evaluate("getComputedStyle(document.body).backgroundColor");
        assertThat(background).as("dark mode").isEqualTo("rgb(23, 24, 28)");
        screenshot(page, "desktop-dark-inbox");
        assertThat(misdeeds).isEmpty();
    }

    @Test
    @Order(10)
    void repliesGatherIntoOneConversationAndAStrangerCannotJoinIt() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String subject = "Picnic " + tag;
        String first = "<picnic-" + tag + "@web-bob.test>";
        deliverRaw(BOB, ALICE, """
                From: Bob <%s>
                To: %s
                Subject: %s
                Message-ID: %s

                Saturday at the lake?
                """.formatted(BOB, ALICE, subject, first));
        awaitMessage(ALICE, PASSWORD, "INBOX", subject);
        Page page = loggedIn(true, ALICE, PASSWORD);
        page.getByText(subject).first().click();
        page.getByRole(com.microsoft.playwright.options.AriaRole.LINK, new Page.GetByRoleOptions().setName("Reply").setExact(true)).click();
        page.getByLabel("Message").press("Control+Home");
        page.getByLabel("Message").pressSequentially("Yes, I will bring cake.");
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Send")).click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX"));
        String reply = awaitMessage(ALICE, PASSWORD, "Sent", "Re: " + subject).path("message_id").asText();
        assertThat(reply).startsWith("<");

        // Bob answers Alice's reply, naming both; a stranger names Bob's first message under another subject.
        deliverRaw(BOB, ALICE, """
                From: Bob <%s>
                To: %s
                Subject: Re: %s
                Message-ID: <picnic-2-%s@web-bob.test>
                In-Reply-To: %s
                References: %s %s

                I will bring a blanket.
                """.formatted(BOB, ALICE, subject, tag, reply, first, reply));
        deliverRaw("mallory@evil.test", ALICE, """
                From: <mallory@evil.test>
                To: %s
                Subject: Cheap watches %s
                References: %s

                Buy now.
                """.formatted(ALICE, tag, first));
        awaitMessage(ALICE, PASSWORD, "INBOX", "Re: " + subject);
        awaitMessage(ALICE, PASSWORD, "INBOX", "Cheap watches " + tag);

        // The INBOX shows the conversation's two messages there as one row, the stranger's apart.
        page.navigate(BASE + "/mail/INBOX");
        assertThat(page.getByLabel("Select: Re: " + subject + " (2 messages)", new Page.GetByLabelOptions().setExact(true)).count())
                .isEqualTo(1);
        assertThat(page.getByLabel("Select: Cheap watches " + tag, new Page.GetByLabelOptions().setExact(true)).count()).isEqualTo(1);
        page.getByText("Re: " + subject).click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX/"));
        // Opened, the message lists its conversation, oldest first, Alice's reply from Sent among it.
        assertThat(page.locator(".conversation summary").textContent()).isEqualTo("3 messages in this conversation");
        page.locator(".conversation summary").click();
        assertThat(page.locator(".conversation li").count()).isEqualTo(3);
        assertThat(page.locator(".conversation li a[href*='/mail/Sent/']").count()).isEqualTo(1);
        page.locator(".conversation li a").first().click();
        assertThat(page.locator(".plain").textContent()).contains("Saturday at the lake?");
        screenshot(page, "phone-conversation");

        // Selecting the row acts on the whole conversation in the folder.
        page.navigate(BASE + "/mail/INBOX");
        page.getByLabel("Select: Re: " + subject + " (2 messages)").check();
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Archive")).click();
        assertThat(page.locator(".notice").textContent()).isEqualTo("2 messages archived.");
        assertThat(messageWithSubject(fetch(ALICE, PASSWORD, "INBOX"), subject)).isEmpty();
        assertThat(messageWithSubject(fetch(ALICE, PASSWORD, "INBOX"), "Cheap watches " + tag)).isPresent();
        assertThat(misdeeds).isEmpty();
    }

    /** Elements and attributes no message may bring into a page: JavaScript run in the page, and in the message's frame. */
    private static final String INJECTED = """
            (inFrame) => {
              const found = [];
              const banned = /^(SCRIPT|OBJECT|EMBED|BASE|META|LINK|FORM|INPUT|BUTTON|TEXTAREA|SELECT|IFRAME|FRAME|SVG|MATH|\
            TEMPLATE|VIDEO|AUDIO|SOURCE|NOSCRIPT|MARQUEE|XSS|ISINDEX|APPLET)$/i;
              for (const e of document.querySelectorAll(inFrame ? 'body *' : '#main *')) {
                const mine = !inFrame && (e.matches('form, input, button, select, label, option, details, summary')
                    || e.matches('iframe.html'));
                if (banned.test(e.tagName) && !mine) found.push(e.tagName);
                for (const a of e.attributes) {
                  if (/^on/i.test(a.name)) found.push(e.tagName + ' ' + a.name);
                  // A link may lead anywhere (it opens only when tapped, in a new tab); nothing else may load from elsewhere.
                  const link = e.tagName === 'A' && a.name.toLowerCase() === 'href';
                  // As a browser reads a URL: tabs, line ends and spaces inside "java\tscript:" do not count.
                  const url = a.value.replace(/[\\s\\u0000-\\u001f]/g, '');
                  if (/^(href|src|srcset|action|formaction|data|srcdoc|background|ping|poster|xlink:href)$/i.test(a.name)
                      && (link ? /javascript:|vbscript:|^data:/i : /javascript:|vbscript:|evil\\.test|^data:text/i)
                          .test(url)) found.push(e.tagName + ' ' + a.name + '=' + a.value);
                }
              }
              return found;
            }""";

    private static List<String> vectors() throws IOException {
        try (var in = WebmailTest.class.getResourceAsStream("/injection-vectors.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("# ")).toList();
        }
    }

    private static String encodedWord(String text) {
        return "=?UTF-8?B?" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "?=";
    }

    @Test
    @Order(11)
    void noneOfACorpusOfInjectionVectorsRunsOrLoadsAnythingWhereverItIsPlaced() throws Exception {
        List<String> vectors = vectors();
        assertThat(vectors).hasSizeGreaterThan(40);
        String tag = UUID.randomUUID().toString().substring(0, 8);
        // Every vector in the bodies, HTML and plain text. Between two vectors, whatever one left open
        // (a raw-text <style>, a <noscript>, foreign content) is closed, so each is parsed as markup.
        String all = String.join("\n</style></noscript></template></textarea></title></select></svg></math></table>"
                + "</object><p>between</p>\n", vectors);
        deliverRaw("mallory@evil.test", ALICE, """
                From: <mallory@evil.test>
                To: %s
                Subject: Corpus html %s
                MIME-Version: 1.0
                Content-Type: text/html; charset=utf-8

                <p>corpus start</p>
                %s
                """.formatted(ALICE, tag, all));
        deliverRaw("mallory@evil.test", ALICE, """
                From: <mallory@evil.test>
                To: %s
                Subject: Corpus text %s
                Content-Type: text/plain; charset=utf-8

                %s
                """.formatted(ALICE, tag, String.join("\n", vectors)));
        // ...and each in every header place, four to a message: the subject as written, the sender's
        // name as an RFC 2047 encoded word (which decodes to the raw markup), Cc names raw and encoded,
        // and attachment names (RFC 2231).
        int messages = (vectors.size() + 3) / 4;
        for (int k = 0; k < messages; k++) {
            List<String> four = vectors.subList(4 * k, Math.min(vectors.size(), 4 * k + 4));
            StringBuilder cc = new StringBuilder();
            StringBuilder files = new StringBuilder();
            for (int j = 0; j < four.size(); j++) {
                String v = four.get(j);
                cc.append(j == 0 ? "" : ", ").append(j % 2 == 0 ? "\"" + v.replace("\"", "'") + "\"" : encodedWord(v))
                        .append(" <cc").append(j).append("@evil.test>");
                files.append("""
                        --b
                        Content-Type: text/html
                        Content-Disposition: attachment; filename*=UTF-8''%s

                        <script>alert(99)</script>
                        """.formatted(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20")));
            }
            deliverRaw("mallory@evil.test", ALICE, """
                    From: %s <mallory@evil.test>
                    To: %s
                    Cc: %s
                    Subject: %s %s
                    MIME-Version: 1.0
                    Content-Type: multipart/mixed; boundary=b

                    --b
                    Content-Type: text/plain

                    header corpus %d
                    %s--b--
                    """.formatted(encodedWord(String.join(" ", four)), ALICE, cc, String.join(" ", four), tag, k, files));
        }
        Await.until(Duration.ofSeconds(120), () -> Await.supervisorLog(state), () -> {
            long arrived = fetch(ALICE, PASSWORD, "INBOX").path("messages").findValuesAsText("subject").stream()
                    .filter(x -> x.contains(tag)).count();
            return arrived >= messages + 2 ? Optional.of(arrived) : Optional.empty();
        });

        Page page = loggedIn(false, ALICE, PASSWORD);
        assertThat(page.evaluate(INJECTED, false)).as("the list").isEqualTo(List.of());
        List<String> links = new ArrayList<>();
        for (Object href : (List<?>) page.evaluate("() => [...document.querySelectorAll('.messages a')].map(a => a.getAttribute('href'))")) {
            links.add(String.valueOf(href));
        }
        int opened = 0;
        for (int i = 0; i < Math.min(links.size(), messages + 2); i++) {
            page.navigate(BASE + links.get(i));
            assertThat(page.evaluate(INJECTED, false)).as("message page %s", links.get(i)).isEqualTo(List.of());
            if (page.locator("iframe.html").count() > 0) {
                page.locator("iframe.html").waitFor();
                com.microsoft.playwright.Frame body = page.frames().get(1);
                body.waitForLoadState();
                assertThat(body.evaluate(INJECTED, true)).as("message frame %s", links.get(i)).isEqualTo(List.of());
                assertThat(body.content()).as("the frame runs nothing").doesNotContain("<script");
            }
            opened++;
        }
        assertThat(opened).isEqualTo(messages + 2);
        page.waitForTimeout(1000);
        assertThat(misdeeds).as("dialogs, console errors and requests elsewhere").isEmpty();
    }

    /** Last: it leaves this machine's address throttled for a while. */
    @Test
    @Order(99)
    void aWrongPasswordIsRefusedAndRepeatedTriesMustWait() {
        Page page = newPage(true, ColorScheme.LIGHT);
        for (int i = 0; i < 4; i++) {
            page.navigate(BASE + "/login");
            page.getByLabel("Address").fill(ALICE);
            page.getByLabel("Password").fill("wrong-" + i);
            page.getByLabel("Password").press("Enter");
            page.waitForLoadState();
        }
        assertThat(page.locator(".error").textContent()).startsWith("Too many failed logins. Wait");
        assertThat(page.url()).isEqualTo(BASE + "/login");
        // Another account from the same browser waits too: the throttle counts per client address as well.
        page.getByLabel("Address").fill(BOB);
        page.getByLabel("Password").fill(BOB_PASSWORD);
        page.getByLabel("Password").press("Enter");
        page.waitForLoadState();
        assertThat(page.locator(".error").textContent()).startsWith("Too many failed logins.");
    }

    @Test
    @Order(9)
    void sessionCookiesAreStrictAndEveryChangeNeedsTheFormToken() {
        Page page = loggedIn(true, BOB, BOB_PASSWORD);
        Cookie session = context.cookies().stream().filter(c -> c.name.equals("__Host-hearth")).findFirst().orElseThrow();
        assertThat(session.secure).isTrue();
        assertThat(session.httpOnly).isTrue();
        assertThat(session.sameSite).hasToString("STRICT");
        APIResponse inbox = page.request().get(BASE + "/mail/INBOX");
        assertThat(inbox.headers().get("content-security-policy")).contains("script-src 'self'").doesNotContain("unsafe-inline")
                .contains("frame-ancestors 'none'");
        assertThat(inbox.headers().get("x-content-type-options")).isEqualTo("nosniff");
        // The same session's cookie without the page's token: refused, nothing changed.
        APIResponse forged = page.request().post(BASE + "/logout-everywhere", RequestOptions.create().setForm(FormData.create().set("csrf", "guess")));
        assertThat(forged.status()).isEqualTo(403);
        assertThat(page.request().get(BASE + "/mail/INBOX").url()).isEqualTo(BASE + "/mail/INBOX");
        // Logging out everywhere ends this session too.
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out everywhere")).click();
        page.waitForURL(BASE + "/login");
        page.navigate(BASE + "/mail/INBOX");
        assertThat(page.url()).isEqualTo(BASE + "/login");
        assertThat(misdeeds).isEmpty();
    }

    @Test
    @Order(4)
    void hostileHtmlRunsNothingAndLoadsNothingFromElsewhere() throws Exception {
        String subject = "<img src=x onerror=alert(1)>Invoice \"><script>alert(2)</script>";
        deliverRaw("mallory@evil.test", ALICE, """
                From: "<svg onload=alert(3)>" <mallory@evil.test>
                To: alice@web.hearth.test
                Subject: %s
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary=b

                --b
                Content-Type: text/html; charset=utf-8

                <p>Dear customer</p><script>alert(4)</script><img src="https://tracker.evil.test/p.gif">
                <a href="javascript:alert(5)">pay</a><iframe src="https://evil.test/"></iframe>
                <div style="background:url(https://evil.test/bg.png)">x</div><svg><animate onbegin=alert(6) attributeName=x dur=1s>
                <form action="https://evil.test/"><input name=card></form><base href="https://evil.test/">
                <meta http-equiv="refresh" content="0;url=https://evil.test/">
                --b
                Content-Type: text/html; name="<img src=x onerror=alert(7)>.html"
                Content-Disposition: attachment; filename="<img src=x onerror=alert(7)>.html"

                <script>alert(8)</script>
                --b--
                """.formatted(subject));
        awaitMessage(ALICE, PASSWORD, "INBOX", subject);
        Page page = loggedIn(true, ALICE, PASSWORD);
        page.getByText("Invoice").first().click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX/"));
        page.locator("iframe.html").waitFor();
        page.waitForTimeout(1000);
        assertThat(page.locator("h1").textContent()).contains("<img src=x onerror=alert(1)>");
        assertThat(page.frames().get(1).content()).contains("Dear customer").doesNotContain("<script").doesNotContain("evil.test");
        assertThat(page.getByText("Remote images are hidden").count()).isEqualTo(1);
        // The attachment downloads with its name, never opened as a page.
        APIResponse attachment = page.request().get(BASE + page.locator(".attachments a").getAttribute("href"));
        assertThat(attachment.headers().get("content-disposition")).startsWith("attachment;");
        assertThat(misdeeds).isEmpty();
    }

    @Test
    @Order(3)
    void remoteImagesWaitUntilTheOwnerAllowsTheirSender() throws Exception {
        // The "remote" image is the webmail's own icon, so that showing it sends nothing off the machine.
        String image = BASE + "/static/icon.svg?seen=";
        String first = "Newsletter " + UUID.randomUUID().toString().substring(0, 8);
        String second = "Newsletter again " + UUID.randomUUID().toString().substring(0, 8);
        for (String subject : List.of(first, second)) {
            deliverRaw("news@shop.example", ALICE, "From: Shop <news@shop.example>\nTo: " + ALICE + "\nSubject: " + subject
                    + "\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>Offers</p><img src=\"" + image
                    + subject.replace(' ', '-') + "\" alt=\"banner\">\n");
        }
        awaitMessage(ALICE, PASSWORD, "INBOX", second);
        Page page = loggedIn(true, ALICE, PASSWORD);
        List<String> loaded = new ArrayList<>();
        context.onRequest(r -> {
            if (r.url().startsWith(image)) {
                loaded.add(r.url());
            }
        });
        page.getByText(first).click();
        page.locator("iframe.html").waitFor();
        page.waitForTimeout(1000);
        assertThat(loaded).as("nothing loaded before the owner allows it").isEmpty();
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON,
                new Page.GetByRoleOptions().setName("Always show from news@shop.example")).click();
        page.locator("iframe.html").waitFor();
        page.waitForTimeout(1000);
        assertThat(loaded).containsExactly(image + first.replace(' ', '-'));
        page.navigate(BASE + "/mail/INBOX");
        page.getByText(second).click();
        page.locator("iframe.html").waitFor();
        page.waitForTimeout(1000);
        assertThat(loaded).as("the same sender's next message").contains(image + second.replace(' ', '-'));
        assertThat(page.getByText("Remote images are hidden").count()).isZero();
        assertThat(misdeeds).isEmpty();
    }

    @Test
    @Order(5)
    void whatTheOwnerWritesIsKeptInDraftsOnceAndGoneWhenSent() throws Exception {
        Page page = loggedIn(true, ALICE, PASSWORD);
        page.navigate(BASE + "/compose");
        String subject = "Draft in progress " + UUID.randomUUID().toString().substring(0, 8);
        page.getByLabel("To").fill(BOB);
        page.getByLabel("Subject").fill(subject);
        page.getByLabel("Message").fill("First thoughts.");
        page.getByText("Draft saved at").waitFor(new com.microsoft.playwright.Locator.WaitForOptions().setTimeout(30_000));
        assertThat(copies(fetch(ALICE, PASSWORD, "Drafts"), subject)).hasSize(1);
        String firstUid = page.locator("input[name=draft-uid]").inputValue();
        page.getByLabel("Message").fill("First thoughts, then second ones.");
        Await.until(Duration.ofSeconds(30), () -> "draft-uid still " + firstUid,
                () -> page.locator("input[name=draft-uid]").inputValue().equals(firstUid) ? Optional.empty() : Optional.of(true));
        List<JsonNode> drafts = copies(fetch(ALICE, PASSWORD, "Drafts"), subject);
        assertThat(drafts).as("each save replaces the one before").hasSize(1);
        assertThat(raw(drafts.get(0))).contains("second ones");
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Send")).click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX"));
        awaitMessage(ALICE, PASSWORD, "Sent", subject);
        assertThat(copies(fetch(ALICE, PASSWORD, "Drafts"), subject)).as("sent: no draft left").isEmpty();
        assertThat(misdeeds).isEmpty();
    }

    private static List<JsonNode> copies(JsonNode fetched, String subject) {
        List<JsonNode> out = new ArrayList<>();
        fetched.path("messages").forEach(m -> {
            if (m.path("subject").asText().equals(subject)) {
                out.add(m);
            }
        });
        return out;
    }

    private static String raw(JsonNode message) {
        return new String(Base64.getDecoder().decode(message.path("raw_b64").asText()), StandardCharsets.UTF_8);
    }

    @Test
    @Order(6)
    void newMailAppearsInTheOpenInboxWithoutAReload() throws Exception {
        Page page = loggedIn(true, ALICE, PASSWORD);
        int unreadBefore = unreadInboxBadge(page);
        // A reload would lose this mark.
        page.evaluate("window.stillTheSamePage = true");
        page.waitForTimeout(1500);
        String subject = "Arrives while you look " + UUID.randomUUID().toString().substring(0, 8);
        deliver(BOB, ALICE, subject, "New!");
        page.getByText(subject).waitFor(new com.microsoft.playwright.Locator.WaitForOptions().setTimeout(90_000));
        assertThat(page.evaluate("window.stillTheSamePage === true")).isEqualTo(true);
        assertThat(unreadInboxBadge(page)).isEqualTo(unreadBefore + 1);
        assertThat(misdeeds).isEmpty();
    }

    /**
     * New mail announced while the page cannot fetch its list (a phone gone offline, a page being
     * left): the browser may report the failed request, but the page's script throws nothing, and
     * the next mail once it can fetch again shows as usual.
     */
    @Test
    @Order(12)
    void newMailWhileThePageCannotFetchItsListThrowsNothing() throws Exception {
        Page page = loggedIn(true, ALICE, PASSWORD);
        page.waitForTimeout(1500);
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        page.route(BASE + "/mail/INBOX", route -> {
            refused.incrementAndGet();
            route.abort();
        });
        deliver(BOB, ALICE, "Arrives while offline " + UUID.randomUUID().toString().substring(0, 8), "Nobody fetches this yet.");
        Await.until(Duration.ofSeconds(90), () -> "the page never asked for its list again", () -> {
            page.waitForTimeout(200);
            return refused.get() > 0 ? Optional.of(true) : Optional.empty();
        });
        page.waitForTimeout(1000);
        assertThat(misdeeds).as("what the page did while its list could not be fetched").noneMatch(m -> m.startsWith("page error"));
        page.unroute(BASE + "/mail/INBOX");
        String subject = "Arrives back online " + UUID.randomUUID().toString().substring(0, 8);
        deliver(BOB, ALICE, subject, "Shown at once.");
        page.getByText(subject).waitFor(new com.microsoft.playwright.Locator.WaitForOptions().setTimeout(90_000));
        assertThat(misdeeds).noneMatch(m -> m.startsWith("page error"));
    }

    private static int unreadInboxBadge(Page page) {
        com.microsoft.playwright.Locator badge = page.locator("#folders a[href='/mail/INBOX'] .unread");
        return badge.count() == 0 ? 0 : Integer.parseInt(badge.textContent().strip());
    }

    @Test
    @Order(7)
    void everyScreenPassesAnAccessibilityCheckAtPhoneSize() {
        Page page = newPage(true, ColorScheme.LIGHT);
        page.navigate(BASE + "/login");
        List<String> problems = new ArrayList<>(accessibilityProblems(page, "login"));
        page.getByLabel("Address").fill(ALICE);
        page.getByLabel("Password").fill(PASSWORD);
        page.getByLabel("Password").press("Enter");
        page.waitForURL(BASE + "/mail/INBOX");
        problems.addAll(accessibilityProblems(page, "inbox"));
        page.locator("ul.messages a").first().click();
        page.waitForURL(url -> url.startsWith(BASE + "/mail/INBOX/"));
        problems.addAll(accessibilityProblems(page, "message"));
        page.navigate(BASE + "/compose");
        problems.addAll(accessibilityProblems(page, "compose"));
        page.navigate(BASE + "/mail/INBOX#folders");
        problems.addAll(accessibilityProblems(page, "folders"));
        assertThat(problems).isEmpty();
    }

    /** axe-core's serious and critical findings on the page as it is (the message's own HTML frame left out: the sender's). */
    private static List<String> accessibilityProblems(Page page, String screen) {
        com.deque.html.axecore.results.AxeResults results = new com.deque.html.axecore.playwright.AxeBuilder(page)
                .exclude("iframe").analyze();
        List<String> out = new ArrayList<>();
        for (com.deque.html.axecore.results.Rule r : results.getViolations()) {
            if ("serious".equals(r.getImpact()) || "critical".equals(r.getImpact())) {
                out.add(screen + ": " + r.getId() + " (" + r.getImpact() + "): " + r.getHelp() + " at "
                        + r.getNodes().stream().map(n -> String.valueOf(n.getTarget())).toList());
            }
        }
        return out;
    }

    @Test
    @Order(8)
    void theWebmailIsOnlyOnTheOverlayAddress() {
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", WEBMAIL_PORT), 2000);
            }
        }).isInstanceOf(IOException.class);
    }
}
