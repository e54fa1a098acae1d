package org.hearth.mail.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Deliveries of different messages have their scans under way at once: one slow scan must not make
 * every other delivery wait behind it, whatever the scanner's capacity.
 */
class ConcurrentScansTest {

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

    @Test
    void scansOfDifferentMessagesRunAtOnce() throws Exception {
        spamd.delay(700);
        List<CompletableFuture<List<String>>> deliveries = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] m = RetriedDeliveryTest.message(1, "<m" + i + "@elsewhere.example>", "body " + i + "\r\n");
            deliveries.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return LmtpTestClient.send(store.lmtp, m, "a@d.example");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<List<String>> d : deliveries) {
            assertThat(d.get()).singleElement().asString().startsWith("250");
        }

        assertThat(spamd.mostInFlight()).as("scans under way at one moment").isGreaterThanOrEqualTo(2);
        assertThat(store.count("a@d.example", Mailboxes.INBOX)).isEqualTo(4);
    }
}
