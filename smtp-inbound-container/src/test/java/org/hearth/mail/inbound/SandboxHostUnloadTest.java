package org.hearth.mail.inbound;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox host's unload (HEARTH_UNLOAD_SECONDS, which the mail app's scanner uses to shed its
 * compiled rules): idle that long, the same process sheds what its handler prepared, keeps its
 * sockets and counts, and prepares again for the next connection, which it serves. Run with the
 * SMTP handler, the lightest handler at hand: what is shed is what loading it cost.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SandboxHostUnloadTest {

    @Test
    void anIdleHostShedsWhatItPreparedAndPreparesAgainForTheNextConnection() throws Exception {
        try (RunningSmtp smtp = new RunningSmtp(new RecordingLmtpServer(), 100_000, false,
                Map.of("HEARTH_UNLOAD_SECONDS", "2"))) {
            long pid = smtp.hostProcess().pid();
            long preparedKib = rssKib(pid);
            try (SmtpWire wire = new SmtpWire(smtp.port)) {
                assertThat(wire.reply()).startsWith("220");
                assertThat(wire.command("QUIT")).startsWith("221");
            }

            until(() -> smtp.output().stream().anyMatch(l -> l.contains("event=unloaded")));
            assertThat(smtp.hostProcess().isAlive()).as("the same process, executed afresh").isTrue();
            assertThat(smtp.hostProcess().pid()).isEqualTo(pid);
            assertThat(rssKib(pid)).as("resident memory, KiB, against %d prepared", preparedKib).isLessThan(preparedKib - 2048);
            until(() -> status(smtp).contains("destroyed=1"));
            assertThat(status(smtp)).as("its counts go on").startsWith("created=1 destroyed=1 failed=0");

            try (SmtpWire wire = new SmtpWire(smtp.port)) {
                assertThat(wire.reply()).as("served once prepared again").startsWith("220");
                assertThat(wire.command("EHLO client.test")).startsWith("250");
            }
            assertThat(smtp.output()).anyMatch(l -> l.contains("event=prepared"));
            assertThat(status(smtp)).startsWith("created=2");
        }
    }

    private static long rssKib(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst()
                .orElseThrow();
    }

    private static String status(RunningSmtp smtp) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), smtp.statusPort)) {
            s.setSoTimeout(10_000);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        } catch (Exception e) {
            return "(no answer: " + e + ")";
        }
    }

    private static void until(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
