package org.hearth.mail.inbound;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mail up to the 25 MiB limit is stored whole and larger mail refused for good, while the sandbox
 * serving the connection holds only a bounded part of it: above 1 MiB a message goes to the store
 * as it arrives, so fifty sessions cannot need fifty messages' worth of memory. Its peak resident
 * memory is sampled from /proc while the message flows.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LargeMessageTest {

    private static final long MAX_MESSAGE_BYTES = 26_214_400;
    private static final long MIB = 1024 * 1024;
    /**
     * A sandbox's resident set starts at about 12 MiB, most of it shared with its host, and peaks at 15–17
     * while a large message streams through; holding a 20 MiB message would take it past 35.
     */
    private static final long SANDBOX_RSS_LIMIT_MIB = 28;

    private RunningSmtp smtp;
    private final AtomicLong peakRssKib = new AtomicLong();
    private volatile boolean sampling;
    private Thread sampler;

    private void start(RecordingLmtpServer store) throws Exception {
        smtp = new RunningSmtp(store, MAX_MESSAGE_BYTES, false, Map.of("STORE_TIMEOUT_SECONDS", "60"));
        sampling = true;
        sampler = new Thread(this::sample, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    @AfterEach
    void stop() throws Exception {
        sampling = false;
        if (sampler != null) {
            sampler.join();
        }
        System.out.println("smtp-in sandbox peak RSS: " + peakRssKib.get() / 1024 + " MiB");
        if (smtp != null) {
            smtp.close();
        }
    }

    @Test
    void aTwentyMegabyteMessageIsStoredByteExactWhileTheSandboxHoldsLittleOfIt() throws Exception {
        start(RecordingLmtpServer.digesting());
        long size = 20 * MIB;
        try (SmtpWire wire = new SmtpWire(smtp.port, 120_000)) {
            startMessage(wire);
            wire.write(GeneratedMessage.onTheWire("twenty", size)).write(".\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(smtp.store.awaitQuit().digests()).hasSize(1);
        RecordingLmtpServer.Digest stored = smtp.store.digests().get(0);
        // The store gets our Received field, then exactly what was sent.
        String received = stored.head().substring(0, stored.head().indexOf("From: alice@sender.test\r\n"));
        assertThat(received).startsWith("Received: ");
        byte[] prefix = received.getBytes(StandardCharsets.ISO_8859_1);
        assertThat(stored.sha256()).isEqualTo(GeneratedMessage.sha256(prefix, "twenty", size));
        assertThat(peakRssKib.get()).as("a sandbox's peak resident memory, KiB").isPositive()
                .isLessThan(SANDBOX_RSS_LIMIT_MIB * 1024);
    }

    @Test
    void oversizeMailWithoutSizeIsRefusedForGoodAndNeverStored() throws Exception {
        start(RecordingLmtpServer.digesting());
        try (SmtpWire wire = new SmtpWire(smtp.port, 120_000)) {
            startMessage(wire);
            wire.write(GeneratedMessage.onTheWire("oversize", MAX_MESSAGE_BYTES + 64 * 1024)).write(".\r\n");
            assertThat(wire.reply()).startsWith("552 5.3.4");
            // The store's half-sent copy was dropped with its connection: this session's next
            // transaction is deferred (the sender retries on a new connection), never lost.
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("451 4.3.0");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        Thread.sleep(200);
        assertThat(smtp.store.digests()).as("nothing of the oversize message was committed").isEmpty();
        assertThat(peakRssKib.get()).as("a sandbox's peak resident memory, KiB").isLessThan(SANDBOX_RSS_LIMIT_MIB * 1024);
    }

    @Test
    void aStoreThatRefusesMidMessageGets451AndTheRestIsNotHeld() throws Exception {
        start(RecordingLmtpServer.refusingData("452 4.3.1 Insufficient system storage"));
        try (SmtpWire wire = new SmtpWire(smtp.port, 120_000)) {
            startMessage(wire);
            wire.write(GeneratedMessage.onTheWire("refused", 20 * MIB)).write(".\r\n");
            assertThat(wire.reply()).startsWith("451 4.3.0");
        }
        assertThat(smtp.store.digests()).isEmpty();
        assertThat(peakRssKib.get()).as("the message after the refusal is read and dropped, not kept, KiB")
                .isLessThan(SANDBOX_RSS_LIMIT_MIB * 1024);
    }

    private static void startMessage(SmtpWire wire) throws IOException {
        assertThat(wire.reply()).startsWith("220");
        assertThat(wire.command("EHLO client.test")).startsWith("250");
        assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
        assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
        assertThat(wire.command("DATA")).startsWith("354");
    }

    /** The largest resident set of any sandbox process (the host's descendants) seen so far. */
    private void sample() {
        while (sampling) {
            smtp.hostProcess().descendants().forEach(p -> peakRssKib.accumulateAndGet(rssKib(p.pid()), Math::max));
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static long rssKib(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0);
        } catch (IOException | RuntimeException e) {
            return 0;   // gone between listing and reading
        }
    }
}
