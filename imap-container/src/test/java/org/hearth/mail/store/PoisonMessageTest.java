package org.hearth.mail.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A message that makes the store fail every time. No test hook: James 3.8.1's JPA mailbox keeps a
 * Content-Type's subtype in a 200-character column, so a longer subtype fails the commit, every
 * time, as it would for a real sender's message.
 */
class PoisonMessageTest {

    @TempDir
    Path data;
    private FakeSpamd spamd;
    private StoreFixture store;

    @BeforeEach
    void start() throws Exception {
        spamd = new FakeSpamd();
        store = new StoreFixture(data, spamd.address());
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        spamd.close();
    }

    static byte[] poison(int attempt) {
        return ("Received: attempt " + attempt + "\r\nMessage-ID: <poison@elsewhere.example>\r\nSubject: odd\r\n"
                + "Content-Type: text/" + "x".repeat(300) + "\r\n\r\nthe body\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private List<String> sendPoison(int attempts) throws Exception {
        List<String> replies = new ArrayList<>();
        for (int i = 1; i <= attempts; i++) {
            replies.addAll(LmtpTestClient.send(store.lmtp, poison(i), "a@d.example"));
        }
        return replies;
    }

    @Test
    void aMessageThatAlwaysFailsIsTempfailedFourTimesThenQuarantinedAndAccepted() throws Exception {
        List<String> replies = sendPoison(5);

        assertThat(replies.subList(0, 4)).allMatch(r -> r.startsWith("451"));
        assertThat(replies.get(4)).startsWith("250").contains("quarantine");
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isZero();
        Path folder = data.resolve("quarantine");
        List<Path> descriptions;
        try (Stream<Path> files = Files.list(folder)) {
            descriptions = files.filter(p -> p.toString().endsWith(".json")).toList();
        }
        assertThat(descriptions).hasSize(1);
        JsonNode item = new ObjectMapper().readTree(descriptions.get(0).toFile());
        assertThat(item.get("version").asInt()).isEqualTo(1);
        assertThat(item.get("recipient").asText()).isEqualTo("a@d.example");
        assertThat(item.get("user").asText()).isEqualTo("a@d.example");
        assertThat(item.get("messageId").asText()).isEqualTo("<poison@elsewhere.example>");
        assertThat(item.get("failures").asInt()).isEqualTo(5);
        assertThat(item.get("errorClass").asText()).isNotBlank();
        assertThat(item.get("firstFailure").asText()).isNotBlank();
        byte[] kept = Files.readAllBytes(folder.resolve(item.get("message").asText()));
        assertThat(new String(kept, StandardCharsets.US_ASCII)).contains("Message-ID: <poison@elsewhere.example>")
                .endsWith("\r\n\r\nthe body\r\n");
        assertThat(item.get("bytes").asLong()).isEqualTo(kept.length);
    }

    @Test
    void theFailureCountSurvivesARestartOfTheStore() throws Exception {
        assertThat(sendPoison(3)).allMatch(r -> r.startsWith("451"));
        store.close();
        store = new StoreFixture(data, spamd.address());

        assertThat(sendPoison(2)).last().asString().startsWith("250");
        assertThat(data.resolve("quarantine")).isNotEmptyDirectory();
    }

    @Test
    void ordinaryMailIsStillDeliveredAfterFailuresOfAnother() throws Exception {
        sendPoison(4);
        assertThat(LmtpTestClient.send(store.lmtp, RetriedDeliveryTest.message(1, "<ok@x>", "fine\r\n"), "a@d.example"))
                .singleElement().asString().startsWith("250");

        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(1);
        assertThat(data.resolve("quarantine")).doesNotExist();
    }

    @Test
    void aFailureOfAnotherKindStartsTheCountAgain() throws Exception {
        MessageIdentity id = MessageIdentity.of(poison(1));
        for (int i = 0; i < 4; i++) {
            store.quarantine.failed("a@d.example", "a@d.example", id, poison(1), new IllegalStateException("x"));
        }

        Quarantine.Outcome other = store.quarantine.failed("a@d.example", "a@d.example", id, poison(1),
                new java.sql.SQLException("disk"));

        assertThat(other.failures()).isEqualTo(1);
        assertThat(other.quarantined()).isEmpty();
    }
}
