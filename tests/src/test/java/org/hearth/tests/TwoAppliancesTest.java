package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.manifest.BoxName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two Hearth appliances and the world between them, on the real engine: A (home-a.test) and B
 * (home-b.test), each behind its own home router in the simulated internet, each publishing the
 * records {@code hearth mail dns} prints in a real DNS server (Knot), and a third-party receiver no one
 * here wrote — Debian's Postfix with dkimpy-milter and OpenDMARC — judging A's mail as a big provider would.
 * A journey, slow by nature: tagged {@code slow} besides {@code engine}.
 */
@Tag("engine")
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoAppliancesTest {

    private static final String PASSWORD = "two-appliances-password";
    private static SimulatedInternet internet;
    private static Appliance a;
    private static Appliance b;
    /** A's Ed25519 DKIM selector, as its zone publishes it. */
    private static String aEd25519Selector;
    /** Where the Postfix verifier hands on what it accepted (aiosmtpd's files). */
    private static Path verified;

    /** One appliance of the world: its own state, ports, mail domain and owner. */
    private record Appliance(String app, Path state, HearthCli hearth, int smtpPort, int imapPort, String domain,
                             String routerAddress) {
        String owner() {
            return "alice@" + domain;
        }

        String mxHost() {
            return "mx." + domain;
        }

        /** The shipped mail manifest on this appliance's ports, under this appliance's own host names. */
        void install() throws Exception {
            // Unpaired boxes named by hand: no registry, so no certificates (their servers keep their
            // self-signed ones), and a certificate may only name ${box.domain}'s hosts.
            String manifest = EngineFixture.mailManifest(app, smtpPort, imapPort, imapPort + 1)
                    // One name or a list of them (a line each under it).
                    .replaceAll("(?m)^( *)certificate:( .*)?\n(\\1 +- .*\n)*", "")
                    .replace(BoxName.DOMAIN, domain);
            Path file = state.resolve(app + ".yaml");
            Files.writeString(file, manifest);
            hearth.ok("app", "install", file.toString(), "--timeout", "300");
            EngineFixture.addMailbox(hearth, app, owner(), PASSWORD);
        }

        /** The zone this appliance's owner publishes: what {@code hearth mail dns} prints, and the MX host's address. */
        String zone(String nameServer) {
            String printed = hearth.ok("mail", "--app", app, "dns", domain).stdout();
            List<String> zone = new ArrayList<>(List.of("$ORIGIN " + domain + ".", "$TTL 60",
                    "@ SOA ns hostmaster 1 3600 600 86400 60", "@ NS ns", "ns A " + nameServer,
                    mxHost() + ". A " + routerAddress));
            printed.lines().filter(l -> l.startsWith(domain + ". ") || l.contains("." + domain + ". ")).forEach(zone::add);
            assertThat(zone).as("hearth mail dns %s printed:\n%s", domain, printed)
                    .anyMatch(l -> l.contains(" MX 10 " + mxHost() + "."))
                    .anyMatch(l -> l.startsWith("_dmarc." + domain + ". "));
            return String.join("\n", zone) + "\n";
        }

        JsonNode submit(String to, String subject) {
            return MailClients.python("submit", Map.of("host", "127.0.0.2", "port", EngineFixture.submissionPort(imapPort),
                    "user", owner(), "password", PASSWORD, "sender", owner(), "rcpts", List.of(to), "subject", subject,
                    "body", "from one home to another", "implicit_tls", false));
        }

        /** Until the owner's folder holds a message whose subject is the marker; that message as imaplib read it. */
        JsonNode awaitMessage(String folder, String marker) throws Exception {
            return await(Duration.ofSeconds(90), state, () -> {
                JsonNode fetched = MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", imapPort,
                        "user", owner(), "password", PASSWORD, "folder", folder));
                for (JsonNode m : fetched.path("messages")) {
                    if (m.path("subject").asText().contains(marker)) {
                        return Optional.of(m);
                    }
                }
                return Optional.empty();
            });
        }

        /** Until exactly one message in the owner's INBOX contains the marker (anywhere in it). */
        void awaitInInbox(String marker) throws Exception {
            await(Duration.ofSeconds(90), state, () -> {
                try {
                    return inboxCount(marker) == 1 ? Optional.of(true) : Optional.empty();
                } catch (AssertionError storeNotUpYet) {
                    return Optional.empty();
                }
            });
        }

        int inboxCount(String marker) {
            return MailClients.python("search", Map.of("host", "127.0.0.2", "port", imapPort, "user", owner(),
                    "password", PASSWORD, "marker", marker)).path("INBOX").asInt();
        }

        void close() {
            hearth.run("app", "remove", app);
            hearth.run("down");
        }
    }

    @BeforeAll
    static void twoHomesAndAProviderInOneInternet() throws Exception {
        EngineFixture.buildPlatformImages(EngineFixture.engine());
        Path run = EngineFixture.newStateDir("two-appliances");
        internet = SimulatedInternet.up("w", 40, run.resolve("internet"));
        String resolver = internet.address(2);
        a = appliance("mail-a", "home-a.test", 45525, 45143, internet.address(11));
        b = appliance("mail-b", "home-b.test", 46525, 46143, internet.address(12));
        // A's router last: all this host sends shows A's address (B sends nothing to the world here).
        internet.homeRouter(b.routerAddress(), b.smtpPort());
        internet.homeRouter(a.routerAddress(), a.smtpPort());
        for (Appliance x : List.of(a, b)) {
            Files.writeString(x.state().resolve("appliance.yaml"), "egress:\n  resolver: " + resolver + "\n");
            x.hearth().ok("up", "--public-address", internet.applianceAddress());
            x.hearth().okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
            x.install();
        }
        String verifier = internet.address(31);
        internet.addAddress(31);
        String sink = internet.address(25);
        internet.addAddress(25);
        String aZone = a.zone(resolver);
        java.util.regex.Matcher ed = java.util.regex.Pattern.compile("(?m)^(\\S+)\\._domainkey\\.home-a\\.test\\. .*k=ed25519").matcher(aZone);
        assertThat(ed.find()).as("A's Ed25519 key in its zone:\n%s", aZone).isTrue();
        aEd25519Selector = ed.group(1);
        internet.dns(resolver, "home-a.test.", aZone, "home-b.test.", b.zone(resolver),
                "verify.test.", String.join("\n", "$ORIGIN verify.test.", "$TTL 60", "@ SOA ns hostmaster 1 3600 600 86400 60",
                        "@ NS ns", "ns A " + resolver, "@ MX 10 mx", "mx A " + verifier, ""));
        verified = run.resolve("verified");
        internet.smtpPeer(sink, verified, Map.of());
        internet.verifyingMx(verifier, "mx.verify.test", "verify.test", sink, resolver);
    }

    private static Appliance appliance(String app, String domain, int smtpPort, int imapPort, String router) throws IOException {
        Path state = EngineFixture.newStateDir(app);
        return new Appliance(app, state, new HearthCli(state), smtpPort, imapPort, domain, router);
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        // Each step whatever the one before did: the internet's servers must not outlive the class.
        try {
            for (Appliance x : new Appliance[]{a, b}) {
                try {
                    if (x != null) {
                        x.close();
                    }
                } catch (RuntimeException | AssertionError e) {
                    System.err.println("closing " + x.app() + ": " + e);
                }
            }
        } finally {
            if (internet != null) {
                internet.close();
            }
        }
    }

    /** A's owner writes to B's: B's store finds both of A's signatures, A's address and A's policy in order. */
    @Test
    @Order(1)
    void mailFromOneApplianceToAnotherArrivesWithEveryCheckPassed() throws Exception {
        String marker = "a-to-b-" + UUID.randomUUID();
        JsonNode sent = a.submit(b.owner(), marker);
        assertThat(sent.path("ok").asBoolean()).as("submission at A: %s", sent).isTrue();

        JsonNode stored = b.awaitMessage("INBOX", marker);
        assertThat(stored.path("authentication_results")).as("%s", stored).hasSize(1);
        assertThat(stored.path("authentication_results").get(0).asText()).startsWith("mail.home-b.test;")
                .contains("spf=pass smtp.mailfrom=" + a.owner())
                .containsPattern("dkim=pass header.d=home-a.test header.s=\\S+ header.a=rsa-sha256")
                .containsPattern("dkim=pass header.d=home-a.test header.s=\\S+ header.a=ed25519-sha256")
                .contains("dmarc=pass header.from=home-a.test");
    }

    /**
     * SMTPUTF8 both ways (RFC 6531/6532): A's owner writes as her non-ASCII alias, with UTF-8 header
     * fields, to B's owner's non-ASCII alias. A's submission, queue, signer and delivery and B's MX,
     * scanner and store all keep it intact, and every check at B passes.
     */
    @Test
    @Order(2)
    void mailBetweenNonAsciiAddressesArrivesIntactWithEveryCheckPassed() throws Exception {
        a.hearth().ok("mail", "--app", a.app(), "alias", "add", "jörg@home-a.test", a.owner());
        b.hearth().ok("mail", "--app", b.app(), "alias", "add", "zoë@home-b.test", b.owner());
        String marker = "utf8-" + UUID.randomUUID();
        JsonNode sent = MailClients.python("submit", Map.of("host", "127.0.0.2", "port", EngineFixture.submissionPort(a.imapPort()),
                "user", a.owner(), "password", PASSWORD, "sender", "jörg@home-a.test", "rcpts", List.of("zoë@home-b.test"),
                "subject", marker + " Grüße aus Köln", "body", "Schöne Grüße, 日本語も\n", "smtputf8", true));
        assertThat(sent.path("ok").asBoolean()).as("submission at A: %s", sent).isTrue();

        JsonNode stored = b.awaitMessage("INBOX", marker);
        String raw = new String(java.util.Base64.getDecoder().decode(stored.path("raw_b64").asText()), StandardCharsets.UTF_8);
        assertThat(raw).as("%s", stored).contains("From: jörg@home-a.test\r\n", "To: zoë@home-b.test\r\n",
                "Subject: " + marker + " Grüße aus Köln\r\n", "Schöne Grüße, 日本語も")
                .containsPattern("with UTF8SMTPS id \\S+\r\n\tfor <zoë@home-b.test>;");
        assertThat(stored.path("authentication_results")).as("%s", stored).hasSize(1);
        assertThat(stored.path("authentication_results").get(0).asText()).startsWith("mail.home-b.test;")
                // An address that is no ASCII token is reported by its domain (RFC 8601 §2.3's pvalue).
                .contains("spf=pass smtp.mailfrom=home-a.test")
                .containsPattern("dkim=pass header.d=home-a.test header.s=\\S+ header.a=rsa-sha256")
                .containsPattern("dkim=pass header.d=home-a.test header.s=\\S+ header.a=ed25519-sha256")
                .contains("dmarc=pass header.from=home-a.test");
    }

    /** The same mail to a provider's Postfix: dkimpy-milter verifies both signatures, OpenDMARC finds SPF and DMARC passed. */
    @Test
    @Order(3)
    void aThirdPartyPostfixWithDkimAndDmarcMiltersSaysPass() throws Exception {
        String marker = "a-to-provider-" + UUID.randomUUID();
        JsonNode sent = a.submit("carol@verify.test", marker);
        assertThat(sent.path("ok").asBoolean()).as("submission at A: %s", sent).isTrue();

        Path eml = await(Duration.ofSeconds(90), a.state(), () -> SimulatedInternet.arrived(verified, marker));
        String message = Files.readString(eml, StandardCharsets.ISO_8859_1).replaceAll("\r?\n[ \t]+", " ");
        // Each result on its own: a field may hold several (RFC 8601 §2.2), one per signature.
        List<String> results = message.lines().filter(l -> l.startsWith("Authentication-Results: mx.verify.test;"))
                .flatMap(l -> java.util.Arrays.stream(l.substring(l.indexOf(';') + 1).split(";"))).map(String::strip).toList();
        assertThat(results).as("the verifier's results in:\n%s", message)
                .anySatisfy(l -> assertThat(l).contains("dkim=pass").contains("header.d=home-a.test").contains("header.a=rsa-sha256"))
                .anySatisfy(l -> assertThat(l).contains("dkim=pass").contains("header.d=home-a.test").contains("header.a=ed25519-sha256"))
                .anySatisfy(l -> assertThat(l).contains("spf=pass").contains("smtp.mailfrom=home-a.test"))
                .anySatisfy(l -> assertThat(l).contains("dmarc=pass").contains("header.from=home-a.test"));
    }

    /** A host that is not A, claiming A's domain unsigned, gets B's refusal: A publishes p=reject. */
    @Test
    @Order(4)
    void mailSpoofingOneApplianceIsRefusedByTheOtherAsItsPolicyAsks() {
        assertRefusedByAsPolicy(Map.of("subject", "spoof-" + UUID.randomUUID()));
    }

    /**
     * A forger who signs as A (d=home-a.test, A's Ed25519 selector) with a key that is not A's: B's
     * check of the Ed25519 signature fails it, so DMARC fails and A's p=reject refuses the message.
     */
    @Test
    @Order(5)
    void anEd25519SignatureMadeWithAnotherKeyDoesNotPassForTheDomain() throws Exception {
        byte[] seed = new byte[32];
        new java.security.SecureRandom().nextBytes(seed);
        assertRefusedByAsPolicy(Map.of("subject", "forged-ed25519-" + UUID.randomUUID(), "dkim", Map.of("domain", "home-a.test",
                "selector", aEd25519Selector, "ed25519_seed_b64", java.util.Base64.getEncoder().encodeToString(seed))));
    }

    /**
     * Mail claiming A's CEO, with {@code extra} send arguments, from a host in the internet (one of
     * its own addresses, never A's router's .11) to B's MX: refused at DATA under A's p=reject.
     */
    private static void assertRefusedByAsPolicy(Map<String, Object> extra) {
        Map<String, Object> args = new java.util.HashMap<>(Map.of("host", b.routerAddress(), "port", 25,
                "sender", "ceo@home-a.test", "rcpts", List.of(b.owner()), "body", "wire the money"));
        args.putAll(extra);
        JsonNode refused = MailClients.pythonIn(internet.namespace(), "send", args);
        assertThat(refused.path("stage").asText()).as("%s", refused).isEqualTo("data");
        assertThat(refused.path("code").asInt()).isEqualTo(550);
        assertThat(refused.path("text").asText()).startsWith("5.7.1").contains("DMARC policy of home-a.test");
    }

    /** A recipient B does not have: B refuses it, and A's owner finds the notice (RFC 3464) in her INBOX. */
    @Test
    @Order(6)
    void aRecipientTheOtherApplianceDoesNotHaveComesBackAsABounce() throws Exception {
        String marker = "no-such-user-" + UUID.randomUUID();
        JsonNode sent = a.submit("nobody@" + b.domain(), marker);
        assertThat(sent.path("ok").asBoolean()).as("submission at A: %s", sent).isTrue();

        // Alice is no recipient: what reaches her INBOX with the marker is the notice, quoting the original.
        // It comes from MAILER-DAEMON, signed by no one: through outbound's own port to the store, not
        // judged by the domain's own p=reject, and not filed as Junk. A store that answers 451 (busy,
        // as under a loaded test run once) gets the notice again: here at once, not on the queue's schedule.
        await(Duration.ofSeconds(180), a.state(), () -> {
            if (a.inboxCount(marker) == 1) {
                return Optional.of(true);
            }
            if (a.hearth().run("mail", "--app", a.app(), "queue", "list").stdout().contains("451 ")) {
                a.hearth().run("mail", "--app", a.app(), "queue", "retry", "all");
            }
            return Optional.empty();
        });
        JsonNode inbox = MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", a.imapPort(), "user", a.owner(),
                "password", PASSWORD, "folder", "INBOX"));
        List<JsonNode> notices = new ArrayList<>();
        inbox.path("messages").forEach(m -> {
            if (m.path("subject").asText().equals("Undelivered Mail Returned to Sender")) {
                notices.add(m);
            }
        });
        assertThat(notices).as("%s", inbox).singleElement().satisfies(n -> assertThat(n.path("authentication_results").toString())
                .contains("none (sent by this appliance: its own user or a notice)"));
        JsonNode everywhere = MailClients.python("search", Map.of("host", "127.0.0.2", "port", a.imapPort(), "user", a.owner(),
                "password", PASSWORD, "marker", marker));
        assertThat(everywhere.path("Junk").asInt()).as("%s", everywhere).isZero();
    }

    /** B away (its supervisor and containers down): A keeps the message and delivers it once B is back. */
    @Test
    @Order(7)
    void whileTheOtherApplianceIsDownMailWaitsAndArrivesOnceWhenItIsBack() throws Exception {
        b.hearth().ok("down");
        String marker = "while-b-down-" + UUID.randomUUID();
        assertThat(a.submit(b.owner(), marker).path("ok").asBoolean()).isTrue();
        await(Duration.ofSeconds(60), a.state(), () -> {
            String out = a.hearth().ok("mail", "--app", a.app(), "queue", "list").stdout();
            return out.contains("<" + b.owner() + ">  ") && !out.contains("not tried yet") ? Optional.of(out) : Optional.empty();
        });

        b.hearth().ok("up", "--public-address", internet.applianceAddress());
        b.hearth().okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        await(Duration.ofSeconds(180), b.state(), () -> {
            JsonNode probe = MailClients.python("probe", Map.of("host", internet.applianceAddress(), "port", b.smtpPort(), "timeout", 3));
            return probe.path("greeting").asText().startsWith("220") ? Optional.of(probe) : Optional.empty();
        });
        // Its store too: smtp-in greets before the store is ready, and until then answers 451 (A would wait 8 minutes).
        await(Duration.ofSeconds(180), b.state(), () -> {
            try {
                return Optional.of(b.inboxCount(marker));
            } catch (AssertionError storeNotUpYet) {
                return Optional.empty();
            }
        });
        a.hearth().ok("mail", "--app", a.app(), "queue", "retry", "all");
        b.awaitInInbox(marker);
        Thread.sleep(3000);
        assertThat(b.inboxCount(marker)).as("copies at B").isEqualTo(1);
        assertThat(a.hearth().ok("mail", "--app", a.app(), "queue", "list").stdout()).doesNotContain(b.owner());
    }

    /** What the two appliances say about the mail between them: A's queue, each one's store and scanner. */
    private static String diagnostics() {
        StringBuilder out = new StringBuilder("A's queue:\n").append(a.hearth().run("mail", "--app", a.app(), "queue", "list").stdout());
        for (Appliance side : List.of(a, b)) {
            for (String role : List.of("imap", "spam")) {
                for (var c : new org.hearth.core.runtime.DockerRuntime(EngineFixture.engine())
                        .containers(EngineFixture.roleLabels(side.state(), side.app(), role))) {
                    ClientProcess.Result logs = ClientProcess.run(List.of("docker", "logs", "--tail", "40", c.id()), Duration.ofSeconds(30));
                    out.append(side == a ? "A's " : "B's ").append(role).append(":\n").append(logs.stdout()).append(logs.stderr());
                }
            }
        }
        return out.toString();
    }

    /** Polls until the check gives a value; on time-out, fails with the tail of {@code state}'s supervisor log and {@link #diagnostics}. */
    private static <T> T await(Duration limit, Path state, Await.Check<T> check) throws Exception {
        return Await.until(limit, () -> Await.supervisorLog(state) + "\n" + diagnostics(), check);
    }
}
