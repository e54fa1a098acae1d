package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.volume.LuksVolumes;
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
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mail app on encrypted storage, end to end with the real engine, CLI, SMTP and IMAP clients:
 * what is on disk is ciphertext, a locked box tempfails mail and loses none, and broken keys or
 * files are named without destroying anything.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EncryptedStorageTest {

    private static final String APP = "mail-enc";
    private static final String SMTP = "127.0.0.1";
    private static final int SMTP_PORT = 22525;
    private static final String IMAP = "127.0.0.2";
    private static final int IMAP_PORT = 21143;
    private static final String DOMAIN = "enc.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String PASSWORD = "alice-password-1";
    private static final String MARKER = "MARKER-" + UUID.randomUUID();
    private static final String MAILBOX = "Mailbox-" + UUID.randomUUID();
    private static final String RETRIED = "retried " + UUID.randomUUID();
    private static final String RETRIED_ID = "<" + UUID.randomUUID() + "@example.org>";

    private static Path state;
    private static HearthCli hearth;

    @BeforeAll
    static void installOnEncryptedStorage() throws IOException {
        EngineFixture.engine().close();
        state = EngineFixture.newStateDir("storage");
        hearth = new HearthCli(state);
        String manifest = EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, 21993)
                .replace("size: 1GiB", "size: 256MiB");
        Path file = state.resolve("mail-enc.yaml");
        Files.writeString(file, manifest);
        hearth.ok("up");
        assertThat(hearth.ok("app", "install", file.toString()).stdout())
                .contains("storage is locked, it starts after hearth unlock");
        assertThat(hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock").stdout())
                .contains("passphrase set and storage unlocked");
        awaitApp("healthy");
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", APP);
        hearth.run("down");
    }

    @Test
    @Order(1)
    void statusNamesTheEncryptedBackend() {
        JsonNode storage = status().path("storage");
        // The same choice the supervisor makes on this host: LUKS2 where device-mapper exists, else fscrypt.
        assertThat(storage.path("backend").asText()).isEqualTo(LuksVolumes.available() ? "luks2" : "fscrypt");
        assertThat(storage.path("encrypted").asBoolean()).isTrue();
        assertThat(storage.path("locked").asBoolean()).isFalse();
        assertThat(hearth.ok("status").stdout()).contains("(encrypted), unlocked");
    }

    @Test
    @Order(2)
    void theMarkerAndMailboxNameAreReadableInsideButNotOnTheRawDisk() throws IOException {
        assertThat(send("marker", MARKER).path("ok").asBoolean()).isTrue();
        assertThat(MailClients.python("create", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "mailbox", MAILBOX)).path("ok").asBoolean()).isTrue();
        // Control: through the open volume the same bytes are there in the clear, so the scan can find them.
        Path data = volumeFile().resolveSibling(APP + "-mail").resolve("data");
        assertThat(anyFileContains(data, MARKER)).as("marker readable in the open volume").isTrue();
        assertThat(anyFileContains(data, MAILBOX)).as("mailbox name readable in the open volume").isTrue();

        assertThat(hearth.ok("lock").stdout()).contains("storage locked");

        byte[] disk = Files.readAllBytes(volumeFile());
        assertThat(contains(disk, MARKER)).as("marker in the raw backing file").isFalse();
        assertThat(contains(disk, MAILBOX)).as("mailbox name in the raw backing file").isFalse();
    }

    @Test
    @Order(3)
    void lockedSmtpTempfailsWith451AndTheStoreDoesNotRun() {
        JsonNode refused = sendWithId(RETRIED, "try me later", RETRIED_ID);
        assertThat(refused.path("ok").asBoolean()).isFalse();
        assertThat(refused.path("refused").path(ALICE).get(0).asInt()).isEqualTo(451);
        assertThat(refused.path("refused").path(ALICE).get(1).asText()).startsWith("4.3.0");
        assertThat(container("imap").path("running").asBoolean()).isFalse();
        assertThat(container("imap").path("health").asText()).isEqualTo("locked");
    }

    @Test
    @Order(4)
    void aSupervisorRestartWhileLockedStaysLocked() {
        hearth.ok("down");
        hearth.ok("up");
        awaitApp("locked");
        // smtp-in has no volume: it runs while locked, once its sandbox host is up.
        await(() -> container("smtp-in").path("health").asText().equals("healthy"), "smtp-in healthy");
        assertThat(status().path("storage").path("locked").asBoolean()).isTrue();
        assertThat(sendWithId(RETRIED, "try me later", RETRIED_ID).path("ok").asBoolean()).isFalse();
    }

    @Test
    @Order(5)
    void wrongPassphrasesAreRefusedThenThrottledAndChangeNothing() throws Exception {
        byte[] vault = Files.readAllBytes(state.resolve("keys.json"));
        for (int i = 0; i < 3; i++) {
            HearthCli.Result r = hearth.runWithInput("not the passphrase\n", "unlock");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("wrong passphrase");
        }
        HearthCli.Result throttled = hearth.runWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        assertThat(throttled.exitCode()).isEqualTo(1);
        assertThat(throttled.stderr()).contains("too many wrong passphrases: try again in");
        assertThat(Files.readAllBytes(state.resolve("keys.json"))).isEqualTo(vault);
        assertThat(status().path("storage").path("locked").asBoolean()).isTrue();
        long seconds = Long.parseLong(throttled.stderr().replaceAll("(?s).*try again in (\\d+) s.*", "$1"));
        assertThat(seconds).isBetween(1L, 10L);
        Thread.sleep((seconds + 1) * 1000);
    }

    @Test
    @Order(6)
    void afterUnlockTheRetriedMessageArrivesExactlyOnceAndTheMarkerIsBack() {
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        awaitApp("healthy");
        assertThat(sendWithId(RETRIED, "try me later", RETRIED_ID).path("ok").asBoolean()).isTrue();
        JsonNode inbox = fetch("INBOX");
        assertThat(inbox.path("messages").findValuesAsText("subject")).containsOnlyOnce(RETRIED).contains("marker");
        assertThat(fetch(MAILBOX).path("messages")).isEmpty();
    }

    @Test
    @Order(7)
    void aCorruptedWrappedKeyIsNamedAndTheDataSurvivesItsRepair() throws IOException {
        Path vault = state.resolve("keys.json");
        String original = Files.readString(vault);
        hearth.ok("lock");
        String wrapped = original.split("\"" + APP + "-mail\" : \"")[1].split("\"")[0];
        char flipped = wrapped.charAt(20) == 'A' ? 'B' : 'A';
        Files.writeString(vault, original.replace(wrapped, wrapped.substring(0, 20) + flipped + wrapped.substring(21)));

        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        String problem = awaitProblem("imap");
        assertThat(problem).contains("the wrapped key of volume " + APP + "-mail is corrupted");
        assertThat(volumeFile()).exists();

        Files.writeString(vault, original);
        awaitApp("healthy");
        assertThat(fetch("INBOX").path("messages").findValuesAsText("subject")).contains("marker");
    }

    @Test
    @Order(8)
    void aMissingVolumeFileIsNamedAndNeverReplacedByAnEmptyOne() throws IOException {
        hearth.ok("lock");
        Path file = volumeFile();
        Path aside = file.resolveSibling("moved-aside.img");
        Files.move(file, aside);
        try {
            hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
            assertThat(awaitProblem("imap")).contains("is missing; not making an empty one in its place");
            assertThat(file).doesNotExist();
        } finally {
            hearth.run("lock");
            Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE);
        }
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        awaitApp("healthy");
        assertThat(fetch("INBOX").path("messages").findValuesAsText("subject")).contains("marker");
    }

    @Test
    @Order(9)
    void theVolumeGrowsAndKeepsItsMail() {
        long before = volumeFile().toFile().length();
        hearth.ok("volume", "grow", APP, "mail", "512MiB");
        awaitApp("healthy");
        assertThat(volumeFile().toFile().length()).isGreaterThan(before);
        assertThat(fetch("INBOX").path("messages").findValuesAsText("subject")).contains("marker");
    }

    @Test
    @Order(10)
    void removingTheAppDestroysTheVolumeAndForgetsItsKey() throws IOException {
        hearth.ok("app", "remove", APP);
        assertThat(volumeFile()).doesNotExist();
        assertThat(Files.readString(state.resolve("keys.json"))).doesNotContain(APP + "-mail");
    }

    @Test
    @Order(11)
    void aPassphraseChangeRewrapsTheKeyAndTheOldOneStopsWorking() throws IOException {
        String vault = Files.readString(state.resolve("keys.json"));
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\nnew passphrase\n", "passphrase", "change");
        String changed = Files.readString(state.resolve("keys.json"));
        assertThat(changed).isNotEqualTo(vault).doesNotContain("new passphrase");
        hearth.ok("lock");
        assertThat(hearth.runWithInput(EngineFixture.PASSPHRASE + "\n", "unlock").stderr()).contains("wrong passphrase");
        assertThat(hearth.okWithInput("new passphrase\n", "unlock").stdout()).contains("storage unlocked");
    }

    // --- helpers ---

    private static Path volumeFile() {
        try (Stream<Path> files = Files.list(state.resolve("volumes"))) {
            return files.filter(p -> p.getFileName().toString().startsWith(APP + "-mail."))
                    .findFirst().orElse(state.resolve("volumes").resolve(APP + "-mail.img"));
        } catch (IOException e) {
            return state.resolve("volumes").resolve(APP + "-mail.img");
        }
    }

    private static JsonNode send(String subject, String body) {
        return MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", subject, "body", body));
    }

    private static JsonNode sendWithId(String subject, String body, String messageId) {
        return MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", "bob@example.org",
                "rcpts", List.of(ALICE), "subject", subject, "body", body, "message_id", messageId));
    }

    private static JsonNode fetch(String folder) {
        return MailClients.python("fetch", Map.of("host", IMAP, "port", IMAP_PORT, "user", ALICE,
                "password", PASSWORD, "folder", folder));
    }

    private static JsonNode status() {
        return MailClients.json(hearth.ok("status", "--json").stdout());
    }

    private static JsonNode container(String name) {
        for (JsonNode app : status().path("apps")) {
            for (JsonNode c : app.path("containers")) {
                if (app.path("app").asText().equals(APP) && c.path("name").asText().equals(name)) {
                    return c;
                }
            }
        }
        throw new AssertionError("no container " + name + " in status");
    }

    private static void awaitApp(String state) {
        await(() -> {
            for (JsonNode app : status().path("apps")) {
                if (app.path("app").asText().equals(APP) && app.path("state").asText().equals(state)) {
                    return true;
                }
            }
            return false;
        }, "app " + APP + " " + state);
    }

    /** The problem the supervisor reports for a container, once it reports one. */
    private static String awaitProblem(String name) {
        String[] seen = new String[1];
        await(() -> {
            seen[0] = container(name).path("problem").asText("");
            return !seen[0].isEmpty() && !seen[0].contains("locked");
        }, "a problem on " + name);
        return seen[0];
    }

    private static void await(Supplier<Boolean> condition, String what) {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (Instant.now().isBefore(deadline)) {
            if (condition.get()) {
                return;
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        throw new AssertionError("timed out waiting for " + what + ": " + hearth.run("status").stdout());
    }

    private static boolean anyFileContains(Path dir, String needle) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                if (contains(Files.readAllBytes(p), needle) || p.toString().contains(needle)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean contains(byte[] haystack, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + n.length <= haystack.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
