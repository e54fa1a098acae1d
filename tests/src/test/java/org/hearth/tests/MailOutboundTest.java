package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sending, and checking who sent what arrives, end to end on the real engine: the shipped mail
 * manifest beside a simulated internet (Knot DNS as the appliance's resolver, serving remote.test's
 * MX and the sending domains' SPF, DKIM and DMARC records; aiosmtpd as remote.test's mail server).
 * The owner's client is Python's smtplib on the submission port; other servers are smtplib (signing
 * with dkimpy) inside the internet's namespace; what arrives is read by the receiving server's own
 * files and, for the appliance's own domain, over IMAP.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MailOutboundTest {

    private static final String APP = "mail-out";
    private static final int SMTP_PORT = 44525;
    private static final int IMAP_PORT = 44143;
    private static final int SUBMISSION_PORT = EngineFixture.submissionPort(IMAP_PORT);
    private static final String DOMAIN = "out.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String BOB = "bob@" + DOMAIN;
    private static final String PASSWORD = "alice-password-out";
    private static final String BOB_PASSWORD = "bob-password-out";
    /** The store's name in the Authentication-Results fields it writes (its MAIL_HOSTNAME). */
    private static final String AUTHSERV_ID = "mail.demo.hearth.test";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;
    private static HearthCli hearth;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> state, () -> engine);
    private static SimulatedInternet internet;
    private static Path received;
    private static String mx;
    /** away.test's MX: nothing answers there until a test brings it back. */
    private static String awayMx;
    /** slow.test's MX, a server that takes its time before it answers the message. */
    private static String slowMx;
    /** The MX of dane.test and forged.test, and the certificate it shows (PEM certificate, key). */
    private static String daneMx;
    private static Path[] daneCertificate;
    /** The smarthost's address (smtp.relay.test), where Postfix takes mail after a login. */
    private static String relayAddress;
    /** sender.test's DKIM key, published in its zone. */
    private static KeyPair senderKey;

    @BeforeAll
    static void installMailBesideTheInternet() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("outbound");
        internet = SimulatedInternet.up("o", 30, state.resolve("internet"));
        String resolver = internet.address(2);
        mx = internet.address(25);
        internet.addAddress(25);
        awayMx = internet.address(26);
        internet.addAddress(26);
        relayAddress = internet.address(27);
        internet.addAddress(27);
        slowMx = internet.address(28);
        internet.addAddress(28);
        daneMx = internet.address(29);
        internet.addAddress(29);
        daneCertificate = EngineFixture.certificate(state.resolve("dane-tls"), "mx.dane.test");
        senderKey = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        // Two signed zones whose MX is one server: dane.test's TLSA record names its key, forged.test's another.
        internet.dns(resolver, java.util.Set.of("dane.test.", "forged.test."), "remote.test.", zone("remote.test", resolver, mx),
                "dane.test.", zone("dane.test", resolver, daneMx) + "_25._tcp.mx TLSA 3 1 1 " + spkiSha256(daneCertificate[0]) + "\n",
                "forged.test.", zone("forged.test", resolver, daneMx) + "_25._tcp.mx TLSA 3 1 1 " + "ab".repeat(32) + "\n", "away.test.", zone("away.test", resolver, awayMx),
                "relay.test.", zone("relay.test", resolver, relayAddress) + "smtp A " + relayAddress + "\n",
                "slow.test.", zone("slow.test", resolver, slowMx),
                // Senders on the internet: one that signs and lists its servers, two that others spoof.
                "sender.test.", senderZone("sender.test", resolver, "v=DMARC1; p=reject", "ip4:" + internet.address(0) + "/24",
                        senderKey.getPublic()),
                "bank.test.", senderZone("bank.test", resolver, "v=DMARC1; p=reject", "ip4:192.0.2.1", null),
                "shop.test.", senderZone("shop.test", resolver, "v=DMARC1; p=quarantine", "ip4:192.0.2.1", null));
        received = state.resolve("received");
        internet.smtpPeer(mx, received, Map.of("nobody@remote.test", "550 5.1.1 <nobody@remote.test>: no such user",
                "later@remote.test", "451 4.2.1 <later@remote.test>: mailbox busy, try again later"));
        Files.writeString(state.resolve("appliance.yaml"), "egress:\n  resolver: " + resolver + "\n");
        hearth = new HearthCli(state);
        hearth.ok("up", "--public-address", internet.applianceAddress());
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        installWith(Map.of());
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
        hearth.okWithInput(BOB_PASSWORD + "\n", "mail", "--app", APP, "user", "add", BOB);
    }

    /** Installs (or updates) the shipped manifest with {@code outboundEnv} added to outbound's environment. */
    private static void installWith(Map<String, String> outboundEnv) throws Exception {
        String text = EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAP_PORT + 1);
        String anchor = "      SUBMISSIONS_PORT: \"1465\"\n";
        assertThat(text).contains(anchor);
        StringBuilder extra = new StringBuilder(anchor);
        outboundEnv.forEach((k, v) -> extra.append("      ").append(k).append(": \"")
                .append(v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append("\"\n"));
        Path manifest = state.resolve(APP + ".yaml");
        Files.writeString(manifest, text.replace(anchor, extra.toString()));
        List<String> old = runtime.containers(EngineFixture.roleLabels(state, APP, "outbound")).stream()
                .map(ContainerRuntime.ContainerInfo::id).toList();
        hearth.ok("app", "install", manifest.toString(), "--timeout", "300");
        // Answered once a container whose settings changed has been replaced and serves (on Podman in CI
        // it once was answered before: the probe below reached the old outbound, the next connection its removed address).
        assertThat(runtime.containers(EngineFixture.roleLabels(state, APP, "outbound")))
                .extracting(ContainerRuntime.ContainerInfo::id).noneMatch(old::contains);
        // Healthy is the container's word; a new one's submission answers a moment later.
        await(Duration.ofSeconds(60), () -> {
            JsonNode probe = MailClients.python("probe", Map.of("host", "127.0.0.2", "port", SUBMISSION_PORT, "timeout", 3));
            return probe.path("greeting").asText().startsWith("220") ? Optional.of(probe) : Optional.empty();
        });
    }

    /** SHA-256 of a certificate's public key, in hex: a DANE-EE(3) SPKI(1) SHA-256(1) record's data. */
    private static String spkiSha256(Path certPem) throws Exception {
        try (java.io.InputStream in = Files.newInputStream(certPem)) {
            java.security.cert.Certificate c = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(c.getPublicKey().getEncoded()));
        }
    }

    private static String zone(String origin, String resolver, String mxAddress) {
        return String.join("\n", "$ORIGIN " + origin + ".", "$TTL 60", "@ SOA ns hostmaster 1 3600 600 86400 60", "@ NS ns",
                "ns A " + resolver, "@ MX 10 mx", "mx A " + mxAddress, "");
    }

    /** A sending domain: its SPF lists {@code spfAddresses}; with a key, it publishes it as DKIM selector s1. */
    private static String senderZone(String origin, String resolver, String dmarc, String spfAddresses, PublicKey dkim) {
        List<String> lines = new ArrayList<>(List.of(zone(origin, resolver, resolver),
                "@ TXT \"v=spf1 " + spfAddresses + " -all\"", "_dmarc TXT \"" + dmarc + "\""));
        if (dkim != null) {
            String key = "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(dkim.getEncoded());
            // One TXT record of 255-byte strings (RFC 7208 §3.3's rule, which DKIM keys follow).
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < key.length(); i += 255) {
                parts.add("\"" + key.substring(i, Math.min(key.length(), i + 255)) + "\"");
            }
            lines.add("s1._domainkey TXT " + String.join(" ", parts));
        }
        return String.join("\n", lines) + "\n";
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        if (internet != null) {
            internet.close();
        }
        engine.close();
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(1)
    void mailToAnotherDomainIsSignedAndDeliveredToItsMx() throws Exception {
        String marker = "out-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("carol@remote.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();

        Path eml = await(Duration.ofSeconds(60), () -> arrived(marker));
        // Header fields unfolded (RFC 5322 §2.2.3), to read each as one line.
        String message = Files.readString(eml, StandardCharsets.ISO_8859_1).replaceAll("\r?\n[ \t]", " ");
        JsonNode envelope = MailClients.json(Files.readString(Path.of(eml.toString().replace(".eml", ".json"))));
        assertThat(envelope.path("mail_from").asText()).isEqualTo(ALICE);
        assertThat(envelope.path("rcpt_tos").get(0).asText()).isEqualTo("carol@remote.test");
        assertThat(message).contains("Subject: " + marker);
        // Both signatures, RSA and Ed25519 (RFC 8463), by the sender's domain.
        assertThat(message.lines().filter(l -> l.startsWith("DKIM-Signature:")).toList()).hasSize(2)
                .anySatisfy(l -> assertThat(l).contains("a=rsa-sha256").contains("d=" + DOMAIN))
                .anySatisfy(l -> assertThat(l).contains("a=ed25519-sha256").contains("d=" + DOMAIN));

        // What hearth mail dns prints, published by a real DNS server, verifies both with dkimpy.
        String printed = hearth.ok("mail", "--app", APP, "dns", DOMAIN).stdout();
        assertThat(printed).contains(DOMAIN + ". 3600 IN MX 10 ").contains("_dmarc." + DOMAIN + ". 3600 IN TXT");
        String publisher = internet.address(3);
        internet.addAddress(3);
        List<String> zone = new ArrayList<>(List.of("$ORIGIN " + DOMAIN + ".", "$TTL 60", "@ SOA ns hostmaster 1 3600 600 86400 60",
                "@ NS ns", "ns A " + publisher));
        printed.lines().filter(l -> l.startsWith(DOMAIN + ". ") || l.contains("." + DOMAIN + ". ")).forEach(zone::add);
        internet.dns(publisher, DOMAIN + ".", String.join("\n", zone) + "\n");
        JsonNode verdict = MailClients.json(runPython(EngineFixture.home().root().resolve(
                "smtp-outbound-container/src/test/python/dkim_verify.py"), "{\"message_b64\": \""
                + Base64.getEncoder().encodeToString(Files.readAllBytes(eml)) + "\", \"dns\": {\"host\": \"" + publisher
                + "\", \"port\": 53}}"));
        assertThat(verdict.path("signatures")).as("dkimpy: %s", verdict).hasSize(2)
                .allSatisfy(s -> assertThat(s.path("valid").asBoolean()).as("%s", s).isTrue());
        // Signed in native code: java-base's AWS-LC library loaded in the read-only container (without
        // it the JDK signs, 15 times slower on this JIT, and nothing else would show it).
        ClientProcess.Result logs = ClientProcess.run(List.of("docker", "logs", containerOf("outbound").id()), Duration.ofSeconds(30));
        assertThat(logs.stdout() + logs.stderr()).contains("event=native-crypto installed=true");
    }

    @Test
    @Order(4)
    void aRecipientTheRemoteRefusesComesBackToTheSenderAsABounce() throws Exception {
        String marker = "bounce-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("nobody@remote.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();

        // Alice is no recipient: what reaches her INBOX with the marker is the notice (RFC 3464), which
        // quotes the original's headers, delivered to her own store like any mail to her domain.
        awaitInInbox(ALICE, PASSWORD, marker);
        assertThat(arrived(marker)).isEmpty();
    }

    @Test
    @Order(5)
    void aDestinationAwayForAWhileGetsItsMailOnceWhenItIsBack() throws Exception {
        String marker = "away-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("carol@away.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();
        await(Duration.ofSeconds(60), () -> {
            String out = hearth.ok("mail", "--app", APP, "queue", "list").stdout();
            return out.contains("<carol@away.test>  connection to mx.away.test") ? Optional.of(out) : Optional.empty();
        });

        Path awayReceived = state.resolve("received-away");
        internet.smtpPeer(awayMx, awayReceived, Map.of());
        hearth.ok("mail", "--app", APP, "queue", "retry", "all");
        await(Duration.ofSeconds(60), () -> SimulatedInternet.arrived(awayReceived, marker));
        Thread.sleep(2000);
        try (Stream<Path> files = Files.list(awayReceived)) {
            assertThat(files.filter(f -> f.toString().endsWith(".eml")).count()).as("copies delivered").isEqualTo(1);
        }
        assertThat(hearth.ok("mail", "--app", APP, "queue", "list").stdout()).doesNotContain("carol@away.test");
    }

    @Test
    @Order(6)
    void mailThatCannotLeaveWaitsInTheQueueWhereTheOwnerSeesItAndCanDeleteIt() throws Exception {
        String marker = "stuck-" + UUID.randomUUID();
        // nowhere.test is in no zone the resolver serves: every lookup fails, so the message waits.
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("dave@nowhere.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();

        String listed = await(Duration.ofSeconds(60), () -> {
            String out = hearth.ok("mail", "--app", APP, "queue", "list").stdout();
            return out.contains("<dave@nowhere.test>  ") && !out.contains("not tried yet") ? Optional.of(out) : Optional.empty();
        });
        assertThat(listed).contains("from <" + ALICE + ">").contains("nowhere.test");
        String status = await(Duration.ofSeconds(30), () -> {
            String out = hearth.ok("status").stdout();
            return out.contains("to.nowhere.test") ? Optional.of(out) : Optional.empty();
        });
        assertThat(status).containsPattern("queued +1").containsPattern("oldest +\\d+s");
        String id = listed.lines().filter(l -> l.contains("from <" + ALICE + ">")).findFirst().orElseThrow().split(" ")[0];
        // Nothing in the queue is lost to a supervisor restart or a killed container.
        hearth.ok("down");
        hearth.ok("up", "--public-address", internet.applianceAddress());
        assertThat(awaitQueueList()).contains(id);
        engine.client().killContainerCmd(containerOf("outbound").id()).exec();
        assertThat(awaitQueueList()).contains(id);
        assertThat(hearth.ok("mail", "--app", APP, "queue", "retry", id).stdout()).contains("will be tried at once");
        await(Duration.ofSeconds(60), () -> {
            HearthCli.Result deleted = hearth.run("mail", "--app", APP, "queue", "delete", id);
            return deleted.exitCode() == 0 ? Optional.of(deleted) : Optional.empty();
        });
        assertThat(hearth.ok("mail", "--app", APP, "queue", "list").stdout()).doesNotContain(id);
    }

    @Test
    @Order(2)
    void mailToTheAppliancesOwnDomainGoesStraightIntoTheMailbox() throws Exception {
        String marker = "local-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of(BOB), marker, true);
        assertThat(sent.path("ok").asBoolean()).as("submission over implicit TLS: %s", sent).isTrue();

        awaitInInbox(BOB, BOB_PASSWORD, marker);
        assertThat(arrived(marker)).as("never out to the world and back").isEmpty();
    }

    @Test
    @Order(3)
    void submissionRefusesSendingAsSomeoneElseAndAWrongPassword() {
        JsonNode spoof = submit(ALICE, PASSWORD, "ceo@" + DOMAIN, List.of("carol@remote.test"), "spoof", false);
        assertThat(spoof.path("stage").asText()).isEqualTo("mail");
        assertThat(spoof.path("code").asInt()).isEqualTo(550);
        assertThat(spoof.path("text").asText()).startsWith("5.7.1");

        JsonNode wrong = submit(ALICE, "not-her-password", ALICE, List.of("carol@remote.test"), "guess", false);
        assertThat(wrong.path("stage").asText()).isEqualTo("auth");
        assertThat(wrong.path("code").asInt()).isEqualTo(535);
    }

    /** Only outbound has a way out: the store and both sandbox hosts cannot reach the internet's MX; the scanner reaches the resolver. */
    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(7)
    void onlyTheOutboundContainerReachesTheInternet() {
        for (String role : List.of("imap", "smtp-in", "spam")) {
            JsonNode probe = MailClients.pythonInNetworkOf(pidOf(role), "probe", Map.of("host", mx, "port", 25, "timeout", 3));
            assertThat(probe.path("result").asText()).as(role + " dialling the internet: %s", probe).isNotEqualTo("open");
        }
        // The scanner's one way out: its resolver, for the sender checks.
        JsonNode lookup = MailClients.pythonInNetworkOf(pidOf("spam"), "resolve", Map.of("server", internet.address(2),
                "name", "mx.remote.test"));
        assertThat(lookup.path("addresses")).as("the scanner asking the resolver: %s", lookup).hasSize(1);
        assertThat(lookup.path("addresses").get(0).asText()).isEqualTo(mx);
        JsonNode outbound = MailClients.pythonInNetworkOf(pidOf("outbound"), "probe", Map.of("host", mx, "port", 25, "timeout", 3));
        assertThat(outbound.path("result").asText()).as("outbound: %s", outbound).isEqualTo("open");
        // The store's port for the appliance's own mail (no sender check) is outbound's alone; smtp-in has the checked one.
        List<String> store = engine.client().inspectContainerCmd(containerOf("imap").id()).exec().getNetworkSettings()
                .getNetworks().values().stream().map(n -> n.getIpAddress()).toList();
        assertThat(store).as("the store's addresses").isNotEmpty();
        assertThat(store).as("outbound reaches the store's outbound-lmtp")
                .anyMatch(ip -> probe("outbound", ip, 2425).equals("open"));
        assertThat(store).as("smtp-in reaches the store's lmtp").anyMatch(ip -> probe("smtp-in", ip, 2424).equals("open"));
        assertThat(store).as("smtp-in never reaches outbound-lmtp").noneMatch(ip -> probe("smtp-in", ip, 2425).equals("open"));
    }

    private static String probe(String fromRole, String host, int port) {
        return MailClients.pythonInNetworkOf(pidOf(fromRole), "probe", Map.of("host", host, "port", port, "timeout", 3))
                .path("result").asText();
    }

    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(8)
    void mailFromTheInternetIsCheckedAgainstItsSendersDnsAndTheResultRecorded() throws Exception {
        String marker = "signed-" + UUID.randomUUID();
        JsonNode sent = sendFromTheInternet("news@sender.test", "news@sender.test", marker, true,
                List.of(List.of("Authentication-Results", AUTHSERV_ID + "; dmarc=pass (forged by the sender)")));
        assertThat(sent.path("ok").asBoolean()).as("sent: %s", sent).isTrue();

        JsonNode stored = awaitMessage(BOB, BOB_PASSWORD, "INBOX", marker);
        // One field under this server's name, the sender's own removed (RFC 8601 §5); the sender's
        // real address (smtp-in's Received field) passed SPF, its signature DKIM, so DMARC passed.
        assertThat(stored.path("authentication_results")).as("%s", stored).hasSize(1);
        assertThat(stored.path("authentication_results").get(0).asText()).startsWith(AUTHSERV_ID + ";")
                .contains("spf=pass smtp.mailfrom=news@sender.test")
                .contains("dkim=pass header.d=sender.test header.s=s1 header.a=rsa-sha256")
                .contains("dmarc=pass header.from=sender.test")
                .doesNotContain("forged");
    }

    @Test
    @Order(9)
    void spoofedMailIsRefusedOrFiledInJunkAsTheDomainsDmarcPolicyAsks() throws Exception {
        // bank.test's servers are elsewhere and it signs nothing here: p=reject refuses at the end of DATA.
        JsonNode refused = sendFromTheInternet("alerts@bank.test", "alerts@bank.test", "spoof-" + UUID.randomUUID(), false, List.of());
        assertThat(refused.path("stage").asText()).as("%s", refused).isEqualTo("data");
        assertThat(refused.path("code").asInt()).isEqualTo(550);
        assertThat(refused.path("text").asText()).startsWith("5.7.1").contains("DMARC policy of bank.test");

        // shop.test asks for quarantine: accepted, and filed in Junk with the reason.
        String marker = "quarantined-" + UUID.randomUUID();
        JsonNode accepted = sendFromTheInternet("offers@shop.test", "offers@shop.test", marker, false, List.of());
        assertThat(accepted.path("ok").asBoolean()).as("%s", accepted).isTrue();
        JsonNode junk = awaitMessage(BOB, BOB_PASSWORD, "Junk", marker);
        assertThat(junk.path("authentication_results").get(0).asText()).contains("dmarc=fail header.from=shop.test");
    }

    /** Mail to bob from a server on the internet (a client in its namespace), signed by sender.test's key if asked. */
    private static JsonNode sendFromTheInternet(String envelopeFrom, String headerFrom, String subject, boolean sign,
                                                List<List<String>> headers) throws Exception {
        Map<String, Object> args = new java.util.HashMap<>(Map.of("host", internet.applianceAddress(), "port", SMTP_PORT,
                "sender", envelopeFrom, "header_from", headerFrom, "rcpts", List.of(BOB), "subject", subject,
                "body", "from a server on the internet", "headers", headers));
        if (sign) {
            String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                    .encodeToString(senderKey.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
            args.put("dkim", Map.of("domain", "sender.test", "selector", "s1", "key_pem", pem));
        }
        return MailClients.pythonIn(internet.namespace(), "send", args);
    }

    /** Until the folder holds a message whose subject is the marker; that message as the client read it. */
    private static JsonNode awaitMessage(String user, String password, String folder, String marker) throws Exception {
        return await(Duration.ofSeconds(60), () -> {
            JsonNode fetched = MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT,
                    "user", user, "password", password, "folder", folder));
            for (JsonNode m : fetched.path("messages")) {
                if (m.path("subject").asText().equals(marker)) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        });
    }

    /**
     * A destination that only ever answers 4xx: the sender hears that the mail is late, then that it
     * was given up, on the schedule the manifest sets (shortened here from Postfix's 4 h and 5 d).
     */
    @Test
    @Order(10)
    void aDestinationThatAlwaysSaysLaterBringsADelayNoticeThenABounce() throws Exception {
        // The lifetime leaves room after the delay notice: retries come with the 10 s delivery passes, so the
        // notice is queued at the first pass after 10 s (≈ 10–20 s) and leaves at once; the expiry is far from it.
        installWith(Map.of("QUEUE_MINIMAL_BACKOFF", "3s", "QUEUE_MAXIMAL_BACKOFF", "5s", "QUEUE_DELAY_WARNING", "10s",
                "QUEUE_LIFETIME", "60s"));
        try {
            String marker = "later-" + UUID.randomUUID();
            JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("later@remote.test"), marker, false);
            assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();

            awaitInInbox(ALICE, PASSWORD, marker, 1);
            assertThat(inboxSubjects(ALICE, PASSWORD)).containsOnlyOnce("Delayed Mail (still being retried)");
            assertThat(hearth.ok("mail", "--app", APP, "queue", "list").stdout()).contains("later@remote.test");

            awaitInInbox(ALICE, PASSWORD, marker, 2);
            assertThat(inboxSubjects(ALICE, PASSWORD)).containsOnlyOnce("Delayed Mail (still being retried)")
                    .filteredOn("Undelivered Mail Returned to Sender"::equals).hasSize(2);
            assertThat(hearth.ok("mail", "--app", APP, "queue", "list").stdout()).doesNotContain("later@remote.test");
        } finally {
            installWith(Map.of());
        }
    }

    /**
     * The outbound container killed while a message is on its way (the remote holds it before its
     * reply): after the supervisor starts it again, the message arrives, once.
     */
    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(11)
    void killedMidDeliveryTheMessageArrivesOnceAfterTheRestart() throws Exception {
        Path slowReceived = state.resolve("received-slow");
        internet.smtpPeer(slowMx, slowReceived, Map.of(), 8);
        String marker = "killed-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("carol@slow.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();
        // The remote has the message's data and holds its reply: kill the sender now.
        await(Duration.ofSeconds(60), () -> Files.exists(slowReceived.resolve("max_concurrent")) ? Optional.of(true) : Optional.empty());
        String killed = containerOf("outbound").id();
        engine.client().killContainerCmd(killed).exec();

        Path eml = await(Duration.ofSeconds(120), () -> SimulatedInternet.arrived(slowReceived, marker));
        Thread.sleep(10_000);
        try (Stream<Path> files = Files.list(slowReceived)) {
            assertThat(files.filter(f -> f.toString().endsWith(".eml")).toList()).as("copies delivered").containsExactly(eml);
        }
    }

    /**
     * DANE on the engine: the outbound container validates the signed zones (from their anchors, as
     * it would from the root's) and sends to dane.test's MX only because its key is the one the
     * signed TLSA record names; forged.test's record names another key, so the same server gets nothing.
     */
    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(12)
    void aDomainPublishingDaneGetsMailOnlyOverTlsWithTheKeyItsSignedRecordNames() throws Exception {
        String resolver = internet.address(2);
        installWith(Map.of("DNSSEC_TRUST_ANCHORS", internet.trustAnchors(resolver, "dane.test.")
                + internet.trustAnchors(resolver, "forged.test.")));
        Path daneReceived = state.resolve("received-dane");
        internet.smtpPeerWithTls(daneMx, daneReceived, daneCertificate[0], daneCertificate[1]);

        String marker = "dane-" + UUID.randomUUID();
        assertThat(submit(ALICE, PASSWORD, ALICE, List.of("carol@dane.test"), marker, false).path("ok").asBoolean()).isTrue();
        Path eml = await(Duration.ofSeconds(60), () -> SimulatedInternet.arrived(daneReceived, marker));
        assertThat(Files.readString(Path.of(eml.toString().replace(".eml", ".json")))).contains("\"tls\": true");

        String forged = "forged-" + UUID.randomUUID();
        assertThat(submit(ALICE, PASSWORD, ALICE, List.of("carol@forged.test"), forged, false).path("ok").asBoolean()).isTrue();
        String listed = await(Duration.ofSeconds(60), () -> {
            String out = hearth.ok("mail", "--app", APP, "queue", "list").stdout();
            return out.contains("matches none of its TLSA records") ? Optional.of(out) : Optional.empty();
        });
        assertThat(SimulatedInternet.arrived(daneReceived, forged)).isEmpty();
        // Out of the way of the tests after this one: the message listed just above its recipient.
        String id = null;
        for (String line : listed.lines().toList()) {
            if (line.contains("from <" + ALICE + ">")) {
                id = line.split(" ")[0];
            } else if (line.contains("<carol@forged.test>")) {
                break;
            }
        }
        hearth.ok("mail", "--app", APP, "queue", "delete", id);
    }

    /**
     * A home whose provider blocks outbound port 25: status says so; the owner names a smarthost
     * (Postfix with SASL, in the internet) in appliance.yaml and puts its password in the key vault;
     * the message that waited through the supervisor's restart leaves through the relay, once, with
     * Hearth's DKIM signatures intact. The password is nowhere on disk in the clear, and locking
     * storage takes it from the container.
     */
    @Test
    @Tag(EngineFixture.BOTH_ENGINES)
    @Order(13)
    void whenThePortIsBlockedMailLeavesThroughTheSmarthostWithItsPasswordFromTheKeyVault() throws Exception {
        String relayPassword = "relay-pass-" + UUID.randomUUID();
        internet.blockPort25From(internet.applianceAddress());
        String marker = "relay-" + UUID.randomUUID();
        JsonNode sent = submit(ALICE, PASSWORD, ALICE, List.of("carol@remote.test"), marker, false);
        assertThat(sent.path("ok").asBoolean()).as("submission: %s", sent).isTrue();
        String blocked = await(Duration.ofSeconds(60), () -> {
            String out = hearth.ok("status").stdout();
            return out.contains("no connection (no answer from mx.remote.test") ? Optional.of(out) : Optional.empty();
        });
        assertThat(blocked).contains("name a relay in appliance.yaml (egress.relay)");

        Path[] pem = EngineFixture.certificate(state.resolve("relay-tls"), "smtp.relay.test");
        SimulatedInternet.Smarthost smarthost = internet.smarthost(relayAddress, mx, "alice-relay@relay.test", relayPassword,
                pem[0], pem[1]);
        Files.writeString(state.resolve("appliance.yaml"), "egress:\n  resolver: " + internet.address(2) + "\n"
                + "  relay:\n    host: smtp.relay.test\n    username: alice-relay@relay.test\n    trust: " + pem[0] + "\n");
        hearth.ok("down");
        hearth.ok("up", "--public-address", internet.applianceAddress());
        assertThat(awaitQueueList()).contains("carol@remote.test");
        // Retried until the relay is what fails: outbound may answer before the store it asks which
        // domains are local has started again, and that deferral waits a whole backoff.
        await(Duration.ofSeconds(90), () -> {
            String out = hearth.ok("status").stdout();
            if (out.contains("smtp.relay.test:587, failing (the relay's password is not here")) {
                return Optional.of(out);
            }
            hearth.ok("mail", "--app", APP, "queue", "retry", "all");
            Thread.sleep(2000);
            return Optional.empty();
        });

        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        assertThat(hearth.okWithInput(relayPassword + "\n" + relayPassword + "\n", "secret", "set", "relay-password").stdout())
                .contains("secret relay-password stored in the key vault");
        hearth.ok("mail", "--app", APP, "queue", "retry", "all");
        Path eml = await(Duration.ofSeconds(60), () -> arrived(marker));
        String message = Files.readString(eml, StandardCharsets.ISO_8859_1).replaceAll("\r?\n[ \t]", " ");
        assertThat(message).contains("by smtp.relay.test (Postfix)");
        assertThat(message.lines().filter(l -> l.startsWith("DKIM-Signature:")).toList()).hasSize(2);
        assertThat(Files.readString(smarthost.log())).contains("sasl_method=PLAIN, sasl_username=alice-relay@relay.test");
        Thread.sleep(2000);
        try (Stream<Path> files = Files.list(received)) {
            assertThat(files.filter(f -> f.toString().endsWith(".eml")).filter(f -> {
                try {
                    return Files.readString(f, StandardCharsets.ISO_8859_1).contains(marker);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).count()).as("copies delivered").isEqualTo(1);
        }
        assertThat(await(Duration.ofSeconds(30), () -> {
            String out = hearth.ok("status").stdout();
            return out.contains("smtp.relay.test:587, works") ? Optional.of(out) : Optional.empty();
        })).contains("not used: mail for other domains goes through the relay");

        // In the vault and in memory only: not in appliance.yaml, the vault file, or anywhere in the state folder.
        Path handed = Path.of("/dev/shm", "hearth-" + EngineFixture.instanceOf(state), APP, "outbound", "relay-password");
        assertThat(Files.readString(handed).strip()).isEqualTo(relayPassword);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(handed))).isEqualTo("r--------");
        try (Stream<Path> all = Files.walk(state)) {
            for (Path f : all.filter(Files::isRegularFile).filter(f -> !f.toString().contains("/volumes/")).toList()) {
                assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain(relayPassword);
            }
        }
        hearth.ok("lock");
        assertThat(handed).doesNotExist();
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
    }

    /** Until the mailbox's INBOX holds exactly one message with the marker. */
    private static void awaitInInbox(String user, String password, String marker) throws Exception {
        awaitInInbox(user, password, marker, 1);
    }

    /** Waits until {@code count} messages in the INBOX contain {@code marker}. */
    private static void awaitInInbox(String user, String password, String marker, int count) throws Exception {
        await(Duration.ofSeconds(90), () -> {
            JsonNode found = MailClients.python("search", Map.of("host", "127.0.0.2", "port", IMAP_PORT,
                    "user", user, "password", password, "marker", marker));
            return found.path("INBOX").asInt() == count ? Optional.of(found) : Optional.empty();
        });
    }

    private static List<String> inboxSubjects(String user, String password) {
        JsonNode inbox = MailClients.python("fetch", Map.of("host", "127.0.0.2", "port", IMAP_PORT, "user", user,
                "password", password, "folder", "INBOX"));
        List<String> subjects = new ArrayList<>();
        inbox.path("messages").forEach(m -> subjects.add(m.path("subject").asText()));
        return subjects;
    }

    /** The queue's listing once the outbound container answers again (after a restart or a kill). */
    private static String awaitQueueList() throws Exception {
        return await(Duration.ofSeconds(120), () -> {
            HearthCli.Result r = hearth.run("mail", "--app", APP, "queue", "list");
            return r.exitCode() == 0 ? Optional.of(r.stdout()) : Optional.empty();
        });
    }

    private static JsonNode submit(String user, String password, String sender, List<String> rcpts, String subject,
                                   boolean implicitTls) {
        return MailClients.python("submit", Map.of("host", "127.0.0.2", "port", SUBMISSION_PORT + (implicitTls ? 1 : 0),
                "user", user, "password", password, "sender", sender, "rcpts", rcpts, "subject", subject,
                "body", "sent through Hearth", "implicit_tls", implicitTls));
    }

    private static String runPython(Path script, String args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("python3", script.toString(), args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(script.getFileName() + ": " + out).isZero();
        return out;
    }

    private static Optional<Path> arrived(String marker) throws IOException {
        return SimulatedInternet.arrived(received, marker);
    }

    private static long pidOf(String role) {
        return engine.client().inspectContainerCmd(containerOf(role).id()).exec().getState().getPidLong();
    }

    private static ContainerRuntime.ContainerInfo containerOf(String role) {
        List<ContainerRuntime.ContainerInfo> found = runtime.containers(EngineFixture.roleLabels(state, APP, role));
        assertThat(found).as("running " + role).isNotEmpty();
        return found.get(0);
    }

    private static <T> T await(Duration limit, Await.Check<T> check) throws Exception {
        return Await.until(limit, () -> Await.supervisorLog(state) + "\n" + logTail("outbound") + "\n" + logTail("imap"),
                check);
    }

    /**
     * What a container said in the last five minutes: most waits here are on outbound's queue and
     * deliveries, and end in the store (a 451 from it says why only in its own log).
     */
    private static String logTail(String role) {
        List<ContainerRuntime.ContainerInfo> found = runtime.containers(EngineFixture.roleLabels(state, APP, role));
        if (found.isEmpty()) {
            return "no " + role + " container";
        }
        List<String> lines = runtime.logsSince(found.get(0).id(), Instant.now().minusSeconds(300)).lines().toList();
        return role + " log tail: " + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
