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
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spam filter learns from the owner, on the real engine: mail sent over SMTP, the owner's
 * verdicts given the way a mail client gives them (IMAP UID MOVE, and COPY + EXPUNGE as older
 * clients do), scores read back from the X-Spam-Status field the store writes. The corpus is
 * generated here (a seeded mix of everyday words and of words of one kind of spam the rules miss),
 * so each message differs and the sets stay apart only in what Bayes can learn.
 */
@Tag("engine")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SpamLearningTest {

    private static final String APP = "mail-learn";
    private static final String SMTP = "127.0.0.1";
    private static final int SMTP_PORT = 45525;
    private static final String IMAP = "127.0.0.2";
    private static final int IMAP_PORT = 45143;
    private static final String DOMAIN = "learn.hearth.test";
    private static final String ALICE = "alice@" + DOMAIN;
    private static final String BOB = "bob@" + DOMAIN;
    private static final String PASSWORD = "correct-horse-battery";
    /** Bayes speaks after 20 hams and 20 spams (local.cf); the training gives it a few more of each. */
    private static final int TRAINING = 24;

    private static final List<String> EVERYDAY = List.of("meeting", "tomorrow", "lunch", "project", "notes",
            "school", "weekend", "dinner", "photos", "birthday", "train", "family", "holiday", "recipe", "library",
            "football", "practice", "kids", "dentist", "groceries", "cousin", "parcel", "concert", "tickets", "bakery");
    private static final List<String> SCHEME = List.of("crypto", "portfolio", "yield", "staking", "airdrop",
            "token", "presale", "whitelist", "moonshot", "leverage", "signals", "altcoin", "wallet", "launchpad",
            "exchange", "holders", "liquidity", "mint", "rally", "gains");
    private static final List<String> GARDEN = List.of("allotment", "seedlings", "compost", "tomatoes", "rhubarb",
            "greenhouse", "pruning", "mulch", "courgettes", "society", "plots", "harvest", "watering", "beans");
    private static final List<String> FILLER = List.of("the", "and", "we", "you", "this", "week", "with", "for",
            "our", "about", "will", "have", "from", "some", "next", "all", "when", "there");
    private static final Pattern SCORE = Pattern.compile("score=(-?[0-9.]+)");

    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;
    private static HearthCli hearth;
    private static final Random RANDOM = new Random(17);

    @BeforeAll
    static void installMailApp() throws IOException {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("learn");
        hearth = new HearthCli(state);
        Path file = state.resolve("mail-learn.yaml");
        Files.writeString(file, EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAP_PORT + 1));
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", file.toString(), "--timeout", "300");
        EngineFixture.addMailbox(hearth, APP, ALICE, PASSWORD);
        hearth.okWithInput(PASSWORD + "\n", "mail", "--app", APP, "user", "add", BOB);
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", APP);
        hearth.run("down");
        engine.close();
    }

    @Test
    @Order(1)
    void whatTheOwnerMovesIntoAndOutOfJunkTeachesTheirFilterAlone() throws Exception {
        double before = score(delivered(ALICE, send(ALICE, "probe-before", SCHEME)));

        // Everyday mail: clearly ham by the rules' thresholds, so each is learned as it is delivered.
        for (int i = 0; i < TRAINING; i++) {
            send(ALICE, "everyday-" + i, EVERYDAY);
        }
        // The scheme's mail scores low by the rules and lands in the INBOX; the owner says it is spam,
        // half as a client with MOVE does, half with COPY and EXPUNGE.
        for (int i = 0; i < TRAINING; i++) {
            send(ALICE, (i % 2 == 0 ? "scheme-moved-" : "scheme-copied-") + i, SCHEME);
        }
        assertThat(move(ALICE, "INBOX", "Junk", "scheme-moved-", "move")).isEqualTo(TRAINING / 2);
        assertThat(move(ALICE, "INBOX", "Junk", "scheme-copied-", "copy")).isEqualTo(TRAINING / 2);
        awaitLearned("class=ham why=autolearn", TRAINING);
        awaitLearned("class=spam why=moved_to_junk", TRAINING);

        String after = send(ALICE, "probe-after", SCHEME);
        JsonNode learned = delivered(ALICE, after);
        System.out.printf("figures: a scheme message scored %.1f before training, %.1f after (%s)%n", before,
                score(learned), learned.path("spam_status").asText());
        assertThat(score(learned)).as("a new message like those moved to Junk: %s", learned.path("spam_status"))
                .isGreaterThan(before + 2.0);
        assertThat(learned.path("spam_status").asText()).contains("BAYES_9");

        // Bob's filter learned nothing of Alice's verdicts: each user's database is their own.
        String bobs = send(BOB, "probe-bob", SCHEME);
        assertThat(delivered(BOB, bobs).path("spam_status").asText()).doesNotContain("BAYES_");
    }

    @Test
    @Order(2)
    void aNewsletterWronglyCalledSpamScoresLowerOnceTheOwnerMovesItBack() throws Exception {
        // The owner marks a garden society's newsletters as spam by mistake...
        for (int i = 0; i < 10; i++) {
            send(ALICE, "newsletter-" + i, GARDEN);
        }
        assertThat(move(ALICE, "INBOX", "Junk", "newsletter-", "move")).isEqualTo(10);
        awaitLearned("class=spam why=moved_to_junk", TRAINING + 10);
        double wronglyFlagged = score(delivered(ALICE, send(ALICE, "garden-while-in-junk", GARDEN)));

        // ...and takes them back out of Junk: learned again, as ham.
        assertThat(move(ALICE, "Junk", "INBOX", "newsletter-", "move")).isEqualTo(10);
        awaitLearned("class=ham why=moved_out_of_junk", 10);
        String next = send(ALICE, "garden-after-rescue", GARDEN);
        JsonNode rescued = delivered(ALICE, next);
        System.out.printf("figures: a newsletter scored %.1f while its like sat in Junk, %.1f once moved back (%s)%n",
                wronglyFlagged, score(rescued), rescued.path("spam_status").asText());
        assertThat(score(rescued)).as("%s", rescued.path("spam_status")).isLessThan(wronglyFlagged - 2.0);
        // A message moved from Junk to Trash teaches nothing more: spam thrown away is no verdict of ham.
        send(ALICE, "mistake-to-trash", EVERYDAY);
        assertThat(move(ALICE, "INBOX", "Junk", "mistake-to-trash", "move")).isEqualTo(1);
        awaitLearned("class=spam why=moved_to_junk", TRAINING + 11);
        assertThat(move(ALICE, "Junk", "Trash", "mistake-to-trash", "move")).isEqualTo(1);
        // The learner takes its work in turn: once a later move is learned, anything the move to
        // Trash asked would have been learned too.
        send(ALICE, "barrier", EVERYDAY);
        assertThat(move(ALICE, "INBOX", "Junk", "barrier", "move")).isEqualTo(1);
        awaitLearned("class=spam why=moved_to_junk", TRAINING + 12);
        assertThat(learnedCount("class=ham why=moved_out_of_junk")).isEqualTo(10);
    }

    /** Sends a message of {@code words} with a unique subject; returns that subject. */
    private static String send(String to, String label, List<String> words) {
        String subject = label + " " + UUID.randomUUID().toString().substring(0, 8);
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            List<String> from = RANDOM.nextInt(3) == 0 ? FILLER : words;
            body.append(from.get(RANDOM.nextInt(from.size()))).append(i % 12 == 11 ? ".\n" : " ");
        }
        String sender = words == SCHEME ? "news@launch.example" : words == GARDEN ? "secretary@garden.example" : "sam@friends.example";
        JsonNode sent = MailClients.python("send", Map.of("host", SMTP, "port", SMTP_PORT, "sender", sender,
                "rcpts", List.of(to), "subject", subject, "body", body.toString(),
                "message_id", "<" + UUID.randomUUID() + "@" + sender.substring(sender.indexOf('@') + 1) + ">",
                "headers", List.of(List.of("Date", ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME)))));
        assertThat(sent.path("ok").asBoolean()).as("%s", sent).isTrue();
        return subject;
    }

    /** The message as delivered: in the INBOX, or in Junk if the filter called it spam. */
    private static JsonNode delivered(String user, String subject) {
        return messageIn(user, "INBOX", subject).or(() -> messageIn(user, "Junk", subject))
                .orElseThrow(() -> new AssertionError(subject + " is neither in INBOX nor in Junk"));
    }

    private static double score(JsonNode message) {
        Matcher m = SCORE.matcher(message.path("spam_status").asText());
        assertThat(m.find()).as("%s", message).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static Optional<JsonNode> messageIn(String user, String folder, String subject) {
        JsonNode messages = MailClients.python("fetch", Map.of("host", IMAP, "port", IMAP_PORT, "user", user,
                "password", PASSWORD, "folder", folder)).path("messages");
        for (JsonNode m : messages) {
            if (m.path("subject").asText().equals(subject)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    private static int move(String user, String folder, String target, String marker, String how) {
        JsonNode moved = MailClients.python("move", Map.of("host", IMAP, "port", IMAP_PORT, "user", user,
                "password", PASSWORD, "folder", folder, "target", target, "marker", marker, "how", how));
        assertThat(moved.path("ok").asBoolean()).as("%s", moved).isTrue();
        return moved.path("uids").size();
    }

    /** Until the store has logged {@code count} learnings of this kind, each taken by the learner. */
    private static void awaitLearned(String kind, long count) throws Exception {
        Await.until(Duration.ofSeconds(180), () -> "learned " + learnedCount(kind) + " of " + count + " (" + kind
                + "); store log tail: " + storeLog().lines().filter(l -> l.contains("learn")).reduce("", (a, b) -> a + "\n" + b),
                () -> learnedCount(kind) >= count ? Optional.of(true) : Optional.empty());
    }

    private static long learnedCount(String kind) {
        return storeLog().lines().filter(l -> l.contains("event=learned user=" + ALICE + " " + kind + " learned=true")).count();
    }

    private static String storeLog() {
        List<ContainerRuntime.ContainerInfo> store = runtime.containers(EngineFixture.roleLabels(state, APP, "imap"));
        return store.isEmpty() ? "" : runtime.logsSince(store.get(0).id(), Instant.EPOCH);
    }
}
