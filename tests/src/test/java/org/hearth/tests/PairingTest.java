package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Download;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.ServiceWorkerPolicy;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.registry.TestRegistry;
import org.hearth.registry.protocol.PairingCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pairing a box from a phone, end to end: a real registry and its Knot on loopback, a box (the real
 * supervisor, its mail app installed but its storage never unlocked: a fresh box) whose pairing
 * agent reaches out to the registry, and Debian's Chromium at phone size as the owner's phone,
 * opening the link of {@code hearth pair}. The registry and a man in the middle (Playwright's
 * request routing, standing for a dishonest registry) each try to read or alter the choices and
 * cannot. Screenshots of each screen go to target/screenshots/pairing (the ones in docs/pairing
 * are copies).
 */
@Tag("engine")
@Tag("browser")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PairingTest {

    @RegisterExtension
    static final TestRegistry registry = new TestRegistry();

    private static final String APP = "mail";
    private static final int SMTP_PORT = 48525;
    private static final int IMAP_PORT = 48143;
    private static final int OWNER_APP_PORT = 48444;
    private static final String DOMAIN = "alice." + TestRegistry.ZONE;
    private static final String ADDRESS = "alice@" + DOMAIN;
    private static final String PASSWORD = "correct horse battery staple";
    private static final Path SCREENSHOTS = Path.of("target/screenshots/pairing");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Engine engine;
    private static Path state;
    private static HearthCli hearth;
    private static NamespacedBrowser chromium;
    private static Pebble pebble;
    private static String code;
    private BrowserContext context;

    @BeforeAll
    static void startTheBoxAndThePhone() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        state = EngineFixture.newStateDir("pairing");
        hearth = new HearthCli(state);
        pebble = new Pebble(state.resolve("pebble"), registry.dnsAddress() + ":" + registry.dnsPort());
        Files.writeString(state.resolve("appliance.yaml"), "registry:\n  url: " + base() + "\n"
                + "acme:\n  directory: " + pebble.directory() + "\n  trust: " + pebble.apiCertificate + "\n"
                + "owner-app:\n  port: " + OWNER_APP_PORT + "\n");
        Path manifest = state.resolve(APP + ".yaml");
        Files.writeString(manifest, EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAP_PORT + 1));
        hearth.ok("up");
        // Installed, but waiting for storage: a fresh box, whose owner's password will encrypt it.
        hearth.ok("app", "install", manifest.toString());
        HearthCli.Result pair = hearth.ok("pair", "--no-qr");
        code = pair.stdout().lines().filter(l -> l.startsWith("Pairing code: ")).findFirst().orElseThrow()
                .substring("Pairing code: ".length());
        assertThat(pair.stdout()).contains("On your phone, open: " + base() + "/pair#code=" + code);
        Await.until(Duration.ofSeconds(60), () -> Await.supervisorLog(state), () ->
                Files.readString(state.resolve("logs/supervisor.log")).contains("event=pairing-waiting")
                        ? Optional.of(true) : Optional.empty());
        chromium = NamespacedBrowser.start(state, List.of(new InetSocketAddress("127.0.0.1", registry.port()),
                new InetSocketAddress("127.0.0.2", OWNER_APP_PORT)));
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
        if (pebble != null) {
            try {
                pebble.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @AfterEach
    void closeContext() {
        if (context != null) {
            context.close();
        }
    }

    private static String base() {
        return "http://127.0.0.1:" + registry.port();
    }

    /** A phone: 390 × 844, touch; service workers off where the test routes requests (they would bypass the routes). */
    private Page phone(boolean serviceWorkers) {
        context = chromium.browser.newContext(new Browser.NewContextOptions().setViewportSize(390, 844).setIsMobile(true)
                .setHasTouch(true).setServiceWorkers(serviceWorkers ? ServiceWorkerPolicy.ALLOW : ServiceWorkerPolicy.BLOCK));
        return context.newPage();
    }

    private static void screenshot(Page page, String name) throws Exception {
        page.screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve(name + ".png")).setFullPage(true));
    }

    private static Locator button(Page page, String name) {
        return page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName(name));
    }

    private static JsonNode name(String name) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base() + "/v1/names/" + name))
                .build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** A sealed message with one character of its ciphertext changed. */
    private static String altered(String sealed) {
        int at = sealed.lastIndexOf('.') + 5;
        return sealed.substring(0, at) + (sealed.charAt(at) == 'A' ? 'B' : 'A') + sealed.substring(at + 1);
    }

    @Test
    @Order(1)
    void aCodeNoBoxWaitsForIsRefusedInWordsTheOwnerUnderstands() throws Exception {
        Page page = phone(true);
        page.navigate(base() + "/pair#code=" + PairingCode.random().format());
        page.locator("#code-error").filter(new Locator.FilterOptions().setHasText("No box is waiting")).waitFor();
        assertThat(page.url()).doesNotContain("#code=");
        screenshot(page, "0-wrong-code");

        page.locator("#code").fill("not a code");
        button(page, "Continue").click();
        assertThat(page.locator("#code-error").textContent()).contains("32 letters and digits");
    }

    @Test
    @Order(2)
    void aReplyAlteredOnItsWayToThePhoneIsRefused() throws Exception {
        Page page = phone(false);
        page.route("**/to-phone?*", route -> {
            APIResponse real = route.fetch();
            try {
                ObjectNode body = (ObjectNode) JSON.readTree(real.text());
                ArrayNode messages = body.putArray("messages");
                JSON.readTree(real.text()).path("messages").forEach(m -> messages.add(altered(m.asText())));
                route.fulfill(new Route.FulfillOptions().setResponse(real).setBody(JSON.writeValueAsString(body)));
            } catch (Exception e) {
                route.abort();
            }
        });
        page.navigate(base() + "/pair#code=" + code);
        page.locator("#connect-error").filter(new Locator.FilterOptions().setHasText("changed on its way")).waitFor(
                new Locator.WaitForOptions().setTimeout(60_000));
        assertThat(page.locator("#name-screen").isHidden()).isTrue();
        screenshot(page, "0-tampered");
    }

    @Test
    @Order(3)
    void choicesAlteredOnTheirWayToTheBoxAreRefusedAndNothingIsDone() throws Exception {
        Page page = phone(false);
        AtomicInteger posts = new AtomicInteger();
        page.route("**/to-box", route -> {
            // The first message (hello) passes; the choices after it are altered.
            if (route.request().method().equals("POST") && posts.incrementAndGet() > 1) {
                route.resume(new Route.ResumeOptions().setPostData(altered(route.request().postData())));
            } else {
                route.resume();
            }
        });
        page.navigate(base() + "/pair#code=" + code);
        page.locator("#name").fill("carol");
        page.locator("#name-status").filter(new Locator.FilterOptions().setHasText("is available")).waitFor();
        button(page, "Continue").click();
        page.locator("#password").fill(PASSWORD);
        page.locator("#password-again").fill(PASSWORD);
        button(page, "Set up my box").click();
        page.locator("#working-error").filter(new Locator.FilterOptions().setHasText("changed on its way")).waitFor(
                new Locator.WaitForOptions().setTimeout(60_000));
        assertThat(posts.get()).isEqualTo(2);
        // The box did nothing with it: no name claimed, storage still without a passphrase, still unpaired.
        assertThat(name("carol").path("available").asBoolean()).isTrue();
        assertThat(hearth.ok("status").stdout()).contains("no passphrase yet");
        assertThat(hearth.ok("pair", "--no-qr").stdout()).contains(code);
    }

    @Test
    @Order(4)
    void aBoxRestartedWhileThePhoneWaitsAnswersWhatThePhoneSentMeanwhile() throws Exception {
        hearth.ok("down");
        Page page = phone(true);
        page.navigate(base() + "/pair#code=" + code);
        // The phone's hello waits at the relay (the box's channel outlives it there for a while).
        page.locator("#connecting-screen").waitFor();
        Thread.sleep(2000);
        assertThat(page.locator("#name-screen").isHidden()).isTrue();
        hearth.ok("up");
        page.locator("#name-screen").waitFor(new Locator.WaitForOptions().setTimeout(60_000));
    }

    @Test
    @Order(5)
    void theOwnerPairsTheBoxFromThePhoneAndReadsMail() throws Exception {
        Page page = phone(true);
        List<String> elsewhere = new ArrayList<>();
        List<String> consoleErrors = new ArrayList<>();
        context.onRequest(r -> {
            if (!r.url().startsWith(base() + "/") && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) {
                elsewhere.add(r.url());
            }
        });
        page.onConsoleMessage(m -> {
            if (m.type().equals("error")) {
                consoleErrors.add(m.text());
            }
        });
        page.navigate(base() + "/pair#code=" + code);
        page.locator("#name-screen").waitFor(new Locator.WaitForOptions().setTimeout(60_000));
        assertThat(page.locator("#name-screen .zone").first().textContent()).isEqualTo(TestRegistry.ZONE);

        page.locator("#name").fill("postmaster");
        page.locator("#name-status").filter(new Locator.FilterOptions().setHasText("reserved")).waitFor();
        assertThat(button(page, "Continue").isDisabled()).isTrue();
        screenshot(page, "2-name-refused");
        page.locator("#name").fill("alice");
        page.locator("#name-status").filter(new Locator.FilterOptions().setHasText(DOMAIN + " is available")).waitFor();
        screenshot(page, "1-name");
        button(page, "Continue").click();

        page.locator("#password").fill(PASSWORD);
        page.locator("#password-again").fill(PASSWORD + "!");
        button(page, "Set up my box").click();
        assertThat(page.locator("#password-error").textContent()).isEqualTo("The two passwords differ.");
        screenshot(page, "3-password");
        page.locator("#password-again").fill(PASSWORD);
        long settingUp = System.nanoTime();
        button(page, "Set up my box").click();
        page.locator("#progress li").first().waitFor();
        screenshot(page, "4-setting-up");

        page.locator("#done-screen").waitFor(new Locator.WaitForOptions().setTimeout(360_000));
        // The figure for docs/benchmarks.md: the box's part of the journey, the owner's own steps not counted.
        System.out.printf("PairingTest: from \"Set up my box\" to done in %.1f s%n", (System.nanoTime() - settingUp) / 1e9);
        screenshot(page, "5-done");
        assertThat(page.locator("#done-address").textContent()).isEqualTo(ADDRESS);
        assertThat(page.locator("#progress li").allTextContents()).contains("Reserving " + DOMAIN,
                "Encrypting your box's storage with your password", "Creating your mailbox " + ADDRESS,
                "Publishing your mail's DNS records");
        assertThat((Integer) page.locator("#wireguard-qr").evaluate("img => img.naturalWidth")).isGreaterThan(100);
        Download download = page.waitForDownload(() -> page.locator("#wireguard-download").click());
        String conf = Files.readString(download.path());
        assertThat(conf).contains("[Interface]", "PrivateKey = ", "[Peer]");
        assertThat(page.locator("#mail-settings").textContent()).contains(ADDRESS, "127.0.0.2:" + (IMAP_PORT + 1));
        assertThat(page.locator("#owner-app-link").getAttribute("href")).isEqualTo(ownerApp());
        assertThat(elsewhere).isEmpty();
        assertThat(consoleErrors).isEmpty();

        // The box: paired under that name, its storage encrypted under the owner's password, the
        // mailbox answering IMAP with it, the phone a device on the overlay; the code is gone.
        assertThat(hearth.ok("pair", "--no-qr").stdout()).contains("This box is paired: " + DOMAIN);
        assertThat(Files.exists(state.resolve("pairing/code"))).isFalse();
        assertThat(hearth.ok("overlay", "device", "list").stdout()).contains("phone");
        JsonNode inbox = MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT, "user", ADDRESS,
                "password", PASSWORD, "folder", "INBOX"));
        assertThat(inbox.path("messages")).isEmpty();
        assertThat(name("alice").path("available").asBoolean()).isFalse();

        // Its mail's records, published by the registry to the zone's server and read back from it;
        // its hosts renamed after it (the mail app's manifest says mx.${box.domain}).
        assertThat(dns(DOMAIN, Type.MX)).containsExactly("10 mx." + DOMAIN + ".");
        assertThat(dns(DOMAIN, Type.TXT)).containsExactly("\"v=spf1 mx -all\"");
        assertThat(dns("_dmarc." + DOMAIN, Type.TXT)).singleElement().asString().startsWith("\"v=DMARC1; p=reject");
        assertThat(dns("_imaps._tcp." + DOMAIN, Type.SRV)).containsExactly("0 1 " + (IMAP_PORT + 1) + " mail." + DOMAIN + ".");
        assertThat(dns("_submission._tcp." + DOMAIN, Type.SRV)).containsExactly("0 1 " + EngineFixture.submissionPort(IMAP_PORT)
                + " mail." + DOMAIN + ".");
        String dkimSelector = hearth.ok("mail", "dkim", "list", DOMAIN).stdout().lines().findFirst().orElseThrow()
                .split("\\s+")[0];
        assertThat(dns(dkimSelector + "._domainkey." + DOMAIN, Type.TXT)).singleElement().asString().contains("v=DKIM1");

        // A certificate per host its apps ask for (certificate: mx.${box.domain}, mail.${box.domain}),
        // each with a key of its own, from the CA (pebble), proven by DNS-01 through the registry; the
        // challenge records gone again once the CA looked.
        Map<String, X509Certificate> issued = new java.util.HashMap<>();
        // One certificate may carry several names (the wellknown container's: mta-sts., autoconfig., autodiscover.).
        // And the box's own, for its owner app (box.NAME).
        Map<String, List<String>> names = Map.of("mx." + DOMAIN, List.of("mx." + DOMAIN), "mail." + DOMAIN, List.of("mail." + DOMAIN),
                "mta-sts." + DOMAIN, List.of("mta-sts." + DOMAIN, "autoconfig." + DOMAIN, "autodiscover." + DOMAIN),
                "box." + DOMAIN, List.of("box." + DOMAIN));
        for (String host : List.of("mx." + DOMAIN, "mail." + DOMAIN, "mta-sts." + DOMAIN, "box." + DOMAIN)) {
            Path chain = state.resolve("certificates/" + host + "/fullchain.pem");
            Await.until(Duration.ofSeconds(120), () -> Await.supervisorLog(state), () ->
                    Files.isRegularFile(chain) ? Optional.of(true) : Optional.empty());
            List<X509Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(chain))).stream()
                    .map(X509Certificate.class::cast).toList();
            assertThat(certificates.get(0).getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                    .containsExactlyInAnyOrderElementsOf(names.get(host));
            PKIXParameters trust = new PKIXParameters(Set.of(new TrustAnchor(pebble.root(), null)));
            trust.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(certificates),
                    trust);
            assertThat(Files.getPosixFilePermissions(chain.resolveSibling("privkey.pem")))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            // The challenge comes down just after the chain is written.
            for (String name : names.get(host)) {
                Await.until(Duration.ofSeconds(30), () -> Await.supervisorLog(state), () ->
                        dns("_acme-challenge." + name, Type.TXT).isEmpty() ? Optional.of(true) : Optional.empty());
            }
            assertThat(hearth.ok("status").stdout()).contains("certificate " + host + ": issued by");
            issued.put(host, certificates.get(0));
        }
        assertThat(issued.get("mx." + DOMAIN).getPublicKey()).isNotEqualTo(issued.get("mail." + DOMAIN).getPublicKey());

        // The servers offer them, with no restart: IMAP (the owner's client, checking the name as
        // any mail client does) and the MX's STARTTLS (a sender checking it, as MTA-STS asks).
        Tls mail = new Tls(pebble.root(), "mail." + DOMAIN);
        Tls mx = new Tls(pebble.root(), "mx." + DOMAIN);
        Await.until(Duration.ofSeconds(30), () -> Await.supervisorLog(state), () ->
                mail.imaps(IMAP_PORT + 1).equals(issued.get("mail." + DOMAIN)) ? Optional.of(true) : Optional.empty());
        Await.until(Duration.ofSeconds(30), () -> Await.supervisorLog(state), () ->
                mx.smtpStartTls(SMTP_PORT).equals(issued.get("mx." + DOMAIN)) ? Optional.of(true) : Optional.empty());

        // Renewed on demand (a new key): the next handshake offers it; an IMAP session begun before
        // goes on, and no container was restarted.
        String imapContainer = imapContainer();
        try (Tls.Session session = mail.imapsLogin(IMAP_PORT + 1, ADDRESS, PASSWORD)) {
            assertThat(hearth.ok("certificate", "renew", "mail." + DOMAIN).stdout()).contains("mail." + DOMAIN + ": renewal asked");
            X509Certificate renewed = Await.until(Duration.ofSeconds(60), () -> Await.supervisorLog(state), () -> {
                X509Certificate now = mail.imaps(IMAP_PORT + 1);
                return now.equals(issued.get("mail." + DOMAIN)) ? Optional.empty() : Optional.of(now);
            });
            assertThat(renewed.getPublicKey()).isNotEqualTo(issued.get("mail." + DOMAIN).getPublicKey());
            assertThat(session.command("NOOP")).startsWith("OK");
        }
        assertThat(imapContainer()).isEqualTo(imapContainer);
        HearthCli.Result unknown = hearth.run("certificate", "renew", "www." + DOMAIN);
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.stderr()).contains("neither the box nor an installed app asks for a certificate for www." + DOMAIN);

        // hearth status checks them at the zone's server, and names one that went missing there
        // (after the certificate: its challenges republish the box's records).
        String published = hearth.ok("status").stdout();
        assertThat(published).containsPattern("dns +" + DOMAIN.replace(".", "\\.") + ": [0-9]+ record sets as published");
        registry.deleteAtTheServer("_dmarc." + DOMAIN, Type.TXT);
        String missing = hearth.ok("status").stdout();
        assertThat(missing).containsPattern("dns +" + DOMAIN.replace(".", "\\.") + ": 1 of [0-9]+ record sets MISSING or WRONG")
                .contains("_dmarc." + DOMAIN + ". TXT: MISSING at 127.0.0.1:" + registry.dnsPort() + ": expected [\"v=DMARC1; p=reject");
        // The same facts for the owner app and scripts.
        JsonNode box = MailClients.json(hearth.ok("status", "--json").stdout()).path("box");
        assertThat(box.path("domain").asText()).isEqualTo(DOMAIN);
        assertThat(box.path("dns").findValuesAsText("name")).contains("_dmarc." + DOMAIN + ".", DOMAIN + ".");
        assertThat(StreamSupport.stream(box.path("dns").spliterator(), false).filter(f -> !f.path("ok").asBoolean())
                .map(f -> f.path("name").asText() + " " + f.path("problem").asText()).toList())
                .singleElement().asString().startsWith("_dmarc." + DOMAIN + ". MISSING");
        assertThat(box.path("certificates").findValuesAsText("host")).containsExactly("box." + DOMAIN, "mail." + DOMAIN,
                "mta-sts." + DOMAIN, "mx." + DOMAIN);
        assertThat(box.path("certificates").findValuesAsText("issuer")).hasSize(4);

        // Its address, asked of the registry as the address its request came from, at the name and
        // the MX host (the mail app's public one). Here the box reaches the registry over loopback,
        // which is no address for the world: the registry refuses it and the status says so.
        String refused = Await.until(Duration.ofSeconds(30), () -> Await.supervisorLog(state), () -> {
            String status = hearth.ok("status").stdout();
            return status.contains("address     NOT PUBLISHED") ? Optional.of(status) : Optional.empty();
        });
        assertThat(refused).contains("address     NOT PUBLISHED: the registry answered: \"127.0.0.1\" is not a public IPv4"
                + " or IPv6 address (the address this request came from)");
        assertThat(MailClients.json(hearth.ok("status", "--json").stdout()).path("box").path("address").path("hosts").toString())
                .isEqualTo("[\"@\",\"autoconfig\",\"autodiscover\",\"mta-sts\",\"mx\"]");
        assertThat(dns(DOMAIN, Type.A)).isEmpty();
    }

    /** Where the box serves its owner app: on the loopback overlay, by its address. */
    private static String ownerApp() {
        return "https://127.0.0.2:" + OWNER_APP_PORT + "/";
    }

    /**
     * After pairing, the phone opens the box's own app over the overlay (the done screen's link): a
     * wrong password is refused, the right one shows the box's apps, mail settings and devices; a
     * device added there gets a WireGuard configuration and is on the overlay, and is revoked when
     * removed; after a power cut (storage locked, supervisor restarted) the login unlocks the box.
     * Its certificate is the CA's for box.NAME, whatever the address the link names.
     */
    @Test
    @Order(7)
    void theOwnerLooksAfterTheBoxFromItsOwnAppOverTheOverlay() throws Exception {
        X509Certificate boxCertificate = Await.until(Duration.ofSeconds(60), () -> Await.supervisorLog(state), () -> {
            try {
                return Optional.of(new Tls(pebble.root(), "box." + DOMAIN).https(OWNER_APP_PORT));
            } catch (IOException e) {
                return Optional.empty();
            }
        });
        assertThat(boxCertificate.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .containsExactly("box." + DOMAIN);

        context = chromium.browser.newContext(new Browser.NewContextOptions().setViewportSize(390, 844).setIsMobile(true)
                .setHasTouch(true).setIgnoreHTTPSErrors(true));
        List<String> misdeeds = new ArrayList<>();
        context.onRequest(r -> {
            if (!r.url().startsWith(ownerApp()) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) {
                misdeeds.add("request to " + r.url());
            }
        });
        Page page = context.newPage();
        page.onConsoleMessage(m -> {
            // The wrong password's 401 and the second laptop's 409 are logged by the browser itself; anything else is a fault.
            if (m.type().equals("error") && !m.text().contains("status of 401") && !m.text().contains("status of 409")) {
                misdeeds.add("console error: " + m.text());
            }
        });
        page.onDialog(d -> {
            misdeeds.add("dialog: " + d.message());
            d.dismiss();
        });
        page.navigate(ownerApp());
        page.locator("#login-screen").waitFor();
        page.locator("#password").fill("not the password at all");
        button(page, "Log in").click();
        page.locator("#login-error").filter(new Locator.FilterOptions().setHasText("not your box's password")).waitFor();
        screenshot(page, "7-box-login");

        page.locator("#password").fill(PASSWORD);
        button(page, "Log in").click();
        page.locator("#home-screen").waitFor();
        assertThat(page.locator("#box-name").textContent()).isEqualTo(DOMAIN);
        page.locator("#apps li").filter(new Locator.FilterOptions().setHasText("running")).first().waitFor();
        assertThat(page.locator("#apps").textContent()).contains(APP);
        assertThat(page.locator("#mail-settings").textContent()).contains(ADDRESS, "127.0.0.2:" + (IMAP_PORT + 1));
        assertThat(page.locator("#devices").textContent()).contains("phone");
        assertThat(page.locator("#certificates").textContent()).contains("box." + DOMAIN, "mail." + DOMAIN);
        screenshot(page, "8-box-home");

        // A laptop added from the phone: its configuration, once; on the overlay at once.
        page.locator("#device-name").fill("laptop");
        button(page, "Add").click();
        page.locator("#device-added").waitFor();
        assertThat((Integer) page.locator("#device-qr").evaluate("img => img.naturalWidth")).isGreaterThan(100);
        Download download = page.waitForDownload(() -> page.locator("#device-download").click());
        String conf = Files.readString(download.path());
        assertThat(conf).contains("[Interface]", "PrivateKey = ", "# Hearth device \"laptop\"", "[Peer]");
        assertThat(hearth.ok("overlay", "device", "list").stdout()).contains("laptop");
        screenshot(page, "9-box-device-added");
        page.locator("#device-name").fill("laptop");
        button(page, "Add").click();
        page.locator("#device-error").filter(new Locator.FilterOptions().setHasText("exists already")).waitFor();

        // Removed (a second tap confirms): revoked on the box.
        button(page, "Remove laptop").click();
        button(page, "Remove laptop").click();
        page.locator("#devices li").filter(new Locator.FilterOptions().setHasText("laptop")).waitFor(
                new Locator.WaitForOptions().setState(com.microsoft.playwright.options.WaitForSelectorState.DETACHED));
        assertThat(hearth.ok("overlay", "device", "list").stdout()).doesNotContain("laptop").contains("phone");

        // Another site's page cannot act for the owner, even with the owner's session: no Origin of
        // its own, no device; a plain form's body neither. Without a session, nothing but the pages.
        Tls careful = new Tls(pebble.root(), "box." + DOMAIN);
        String host = "box." + DOMAIN + ":" + OWNER_APP_PORT;
        assertThat(careful.https(OWNER_APP_PORT, "GET /v1/box HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 401");
        String login = "{\"password\":\"" + PASSWORD + "\"}";
        String loggedIn = careful.https(OWNER_APP_PORT, "POST /v1/login HTTP/1.1\r\nHost: " + host + "\r\nOrigin: https://" + host
                + "\r\nContent-Type: application/json\r\nContent-Length: " + login.length() + "\r\nConnection: close\r\n\r\n" + login);
        assertThat(loggedIn).startsWith("HTTP/1.1 200");
        String cookie = loggedIn.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("set-cookie: "))
                .findFirst().orElseThrow().substring("set-cookie: ".length()).split(";")[0];
        String device = "{\"name\":\"intruder\"}";
        for (String[] forged : List.of(new String[] {"https://evil.example", "application/json"},
                new String[] {"https://" + host, "text/plain"})) {
            assertThat(careful.https(OWNER_APP_PORT, "POST /v1/devices HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie
                    + "\r\nOrigin: " + forged[0] + "\r\nContent-Type: " + forged[1] + "\r\nContent-Length: " + device.length()
                    + "\r\nConnection: close\r\n\r\n" + device)).startsWith("HTTP/1.1 403");
        }
        assertThat(hearth.ok("overlay", "device", "list").stdout()).doesNotContain("intruder");

        // A power cut: the box comes back with its storage locked and no one logged in; the
        // owner's login from the phone unlocks it, and mail is read again.
        hearth.ok("lock");
        hearth.ok("down");
        hearth.ok("up");
        assertThat(hearth.ok("status").stdout()).contains("LOCKED");
        Await.until(Duration.ofSeconds(30), () -> Await.supervisorLog(state), () ->
                Files.readString(state.resolve("logs/supervisor.log")).lines()
                        .filter(l -> l.contains("event=owner-app-listening")).count() >= 2 ? Optional.of(true) : Optional.empty());
        page.reload();
        page.locator("#login-screen").waitFor();
        page.locator("#password").fill(PASSWORD);
        button(page, "Log in").click();
        page.locator("#box-storage").filter(new Locator.FilterOptions().setHasText("Storage unlocked")).waitFor();
        assertThat(hearth.ok("status").stdout()).doesNotContain("LOCKED");
        JsonNode inbox = Await.until(Duration.ofSeconds(120), () -> Await.supervisorLog(state), () -> {
            try {
                return Optional.of(MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT, "user", ADDRESS,
                        "password", PASSWORD, "folder", "INBOX")));
            } catch (AssertionError stillStarting) {
                return Optional.empty();
            }
        });
        assertThat(inbox.path("messages").isArray()).isTrue();
        assertThat(misdeeds).isEmpty();
    }

    /**
     * A new phone for a lost one: `hearth pair --new` on the paired box, and the page asks only for
     * the box's password (a wrong one refused), keeps the box's name, and gives the new phone its
     * WireGuard configuration; the old phone's key stops working.
     */
    @Test
    @Order(8)
    void aNewCodeConnectsANewPhoneWithTheBoxsPasswordAndTheOldPhoneStopsWorking() throws Exception {
        String oldPhone = deviceLine("phone");
        long waitingBefore = supervisorEvents("event=pairing-waiting");
        String again = hearth.ok("pair", "--new", "--no-qr").stdout().lines().filter(l -> l.startsWith("Pairing code: "))
                .findFirst().orElseThrow().substring("Pairing code: ".length());
        // The page is opened once the box waits on the new code's channel (before, the registry knows no such channel).
        Await.until(Duration.ofSeconds(60), () -> Await.supervisorLog(state), () ->
                supervisorEvents("event=pairing-waiting") > waitingBefore ? Optional.of(true) : Optional.empty());
        Page page = phone(true);
        page.navigate(base() + "/pair#code=" + again);
        page.locator("#password-screen").waitFor(new Locator.WaitForOptions().setTimeout(60_000));
        assertThat(page.locator("#password-title").textContent()).isEqualTo("Connect this phone to " + DOMAIN);
        assertThat(page.locator("#password-again").isVisible()).isFalse();
        page.locator("#password").fill("a guess of ten letters");
        button(page, "Connect this phone").click();
        page.locator("#password-error").filter(new Locator.FilterOptions().setHasText("not your box's password")).waitFor(
                new Locator.WaitForOptions().setTimeout(60_000));
        screenshot(page, "10-pair-again");
        page.locator("#password").fill(PASSWORD);
        button(page, "Connect this phone").click();
        page.locator("#done-screen").waitFor(new Locator.WaitForOptions().setTimeout(360_000));
        assertThat(page.locator("#done-address").textContent()).isEqualTo(ADDRESS);
        Download download = page.waitForDownload(() -> page.locator("#wireguard-download").click());
        assertThat(Files.readString(download.path())).contains("[Interface]", "PrivateKey = ");

        // Still alice, the same password; the phone re-issued, the code used up.
        assertThat(hearth.ok("pair", "--no-qr").stdout()).contains("This box is paired: " + DOMAIN);
        assertThat(Files.exists(state.resolve("pairing/code"))).isFalse();
        assertThat(deviceLine("phone")).isNotEqualTo(oldPhone);
        assertThat(MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT, "user", ADDRESS,
                "password", PASSWORD, "folder", "INBOX")).path("messages").isArray()).isTrue();
    }

    private static long supervisorEvents(String event) throws IOException {
        return Files.readString(state.resolve("logs/supervisor.log")).lines().filter(l -> l.contains(event)).count();
    }

    /** The overlay device's line in hearth overlay device list: its address and public key. */
    private static String deviceLine(String name) {
        return hearth.ok("overlay", "device", "list").stdout().lines().filter(l -> l.trim().startsWith(name + " "))
                .findFirst().orElseThrow(() -> new AssertionError("no device " + name)).trim();
    }

    private static String imapContainer() {
        return new DockerRuntime(engine).containers(EngineFixture.roleLabels(state, APP, "imap")).stream()
                .filter(ContainerRuntime.ContainerInfo::running).map(ContainerRuntime.ContainerInfo::id).findFirst().orElseThrow();
    }

    /** What the zone's authoritative server answers for {@code name}: each record's data as text. */
    private static List<String> dns(String name, int type) throws Exception {
        SimpleResolver knot = new SimpleResolver(new InetSocketAddress("127.0.0.1", registry.dnsPort()));
        Message answer = knot.send(Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromString(name + "."), type, DClass.IN)));
        return answer.getSection(Section.ANSWER).stream().map(r -> r.rdataToString()).toList();
    }

    @Test
    @Order(6)
    void aUsedCodePairsNothingAgain() throws Exception {
        Page page = phone(true);
        page.navigate(base() + "/pair#code=" + code);
        page.locator("#code-error").filter(new Locator.FilterOptions().setHasText("already been used")).waitFor(
                new Locator.WaitForOptions().setTimeout(60_000));
        screenshot(page, "6-used-code");
        // Across a restart of the registry too: it keeps used codes in its database.
        context.close();
        registry.restart();
        Page again = phone(true);
        again.navigate(base() + "/pair#code=" + code);
        again.locator("#code-error").filter(new Locator.FilterOptions().setHasText("already been used")).waitFor(
                new Locator.WaitForOptions().setTimeout(60_000));
    }
}
