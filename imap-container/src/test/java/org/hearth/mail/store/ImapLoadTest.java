package org.hearth.mail.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bounded IMAP load of tests/reliability/imap_load.py (several clients FETCHing, STOREing,
 * IDLEing and logging out on one INBOX) against the real store in this JVM: JPA on on-disk Derby
 * and the IMAP server as {@link MailStore} starts it, on loopback. No protocol violation may be
 * counted. {@code -Dimap.load.args="--clients 8 --seconds 300 --churn"} changes the load.
 */
@Tag("slow")
class ImapLoadTest {

    @TempDir
    Path data;

    @Test
    void concurrentClientsSeeNoProtocolViolation() throws Exception {
        String args = System.getProperty("imap.load.args", "--clients 6 --seconds 30");
        // A FETCH showing a keyword unset after its STORE's OK, then set again (stale-flags: 8-14
        // in 60 s, with or without FlagWritesInTurn; issue #21's note): printed, not failed here.
        JsonNode result = load(args);
        assertNoViolationBut(result, "stale-flags");
        // Concurrent STOREs of one message take turns (FlagWritesInTurn): none is refused (13 were
        // in 60 s without). With --churn an APPEND may still meet a STORE in the store.
        if (!args.contains("--churn")) {
            assertThat(result.path("counts").path("failed:store").asLong()).as("STOREs answered NO").isZero();
        }
    }

    /**
     * With a client that APPENDs and EXPUNGEs all along, so that FETCHes meet messages that are
     * gone or not yet counted: every sequence number must name a message the client was counted
     * ({@link AnnouncedMessagesOnly}). Besides stale-flags, one James 3.8.1 fault is known and not
     * fixed: an IDLE's late flag update written into the next command's reply (which is why these
     * clients do not IDLE).
     */
    @Test
    void concurrentClientsWhileAnotherExpungesSeeEveryAnnouncedBodyWhole() throws Exception {
        assertNoViolationBut(load("--clients 6 --seconds 30 --churn --no-idle"), "stale-flags");
    }

    private JsonNode load(String args) throws Exception {
        try (InProcessImap imap = new InProcessImap(data)) {
            JsonNode result = runLoad(args.contains("--starttls") ? imap.startTlsPort : imap.implicitTlsPort, args);
            assertThat(result.path("counts").path("bodies").asLong()).as("bodies fetched").isPositive();
            assertThat(result.path("counts").path("logouts").asLong()).as("sessions logged out").isPositive();
            return result;
        }
    }

    @SuppressWarnings("unchecked")
    private static void assertNoViolationBut(JsonNode result, String... known) {
        java.util.Map<String, Object> violations = new ObjectMapper().convertValue(result.path("violations"), java.util.Map.class);
        List.of(known).forEach(violations::remove);
        assertThat(violations).as("protocol violations").isEmpty();
    }

    static JsonNode runLoad(int port, String extraArgs) throws Exception {
        Path script = Path.of(System.getProperty("hearth.home", ".."), "tests/reliability/imap_load.py");
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), "127.0.0.1:" + port, InProcessImap.USER, InProcessImap.PASSWORD));
        cmd.addAll(List.of(extraArgs.trim().split("\\s+")));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.MINUTES)).isTrue();
        System.out.println("imap-load: " + out);
        return new ObjectMapper().readTree(out);
    }
}
