package org.hearth.mail.inbound;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * InboundSmtp in a JVM of its own, sized exactly as in its container: the image's JVM flags
 * (image-build/images/mail-smtp-in/Dockerfile) with {@code -XX:MaxRAM} set to the manifest's memory
 * limit, so {@code MaxRAMPercentage} gives the container's heap (80 MiB of 160 MiB). Mail up to the
 * 25 MiB limit must be stored whole, and larger mail refused for good, at that heap: a 451 from an
 * OutOfMemoryError makes senders retry for days, and the mail never arrives. The process's peak
 * resident memory must stay under the container's limit too, or the kernel kills it mid-message.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class InboundSmtpContainerHeapTest {

    private static final long MAX_MESSAGE_BYTES = 26_214_400;
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private RecordingLmtpServer store;
    private Process smtp;
    private Path log;
    private int port;

    @BeforeEach
    void start() throws Exception {
        store = RecordingLmtpServer.digesting();
        port = freePort();
        log = dir.resolve("smtp-in.log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(containerJvmFlags());
        command.add("-XX:MaxRAM=" + containerMemoryMiB() + "m");
        command.add("-Xlog:gc:file=" + dir.resolve("gc.log"));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), InboundSmtp.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(java.util.Map.of("MAIL_HOSTNAME", "mx.test", "SMTP_BIND", "127.0.0.1",
                "SMTP_PORT", String.valueOf(port), "MAIL_STORE_LMTP", "127.0.0.1:" + store.address().getPort(),
                "MAX_MESSAGE_BYTES", String.valueOf(MAX_MESSAGE_BYTES), "STORE_TIMEOUT_MS", "60000"));
        smtp = builder.start();
        for (int i = 0; i < 300 && !Files.readString(log).contains("event=ready"); i++) {
            assertThat(smtp.isAlive()).as("smtp-in exited: %s", Files.readString(log)).isTrue();
            Thread.sleep(100);
        }
        assertThat(Files.readString(log)).contains("event=ready");
    }

    @AfterEach
    void stop() throws Exception {
        try {
            System.out.println("smtp-in heap: " + heapSummary() + " peak-rss=" + peakRssMiB() + "M");
        } finally {
            smtp.destroy();
            smtp.waitFor(10, TimeUnit.SECONDS);
            store.close();
        }
    }

    @Test
    void aTwentyMegabyteMessageIsStoredByteExactAtTheContainersHeap() throws Exception {
        long size = 20 * MIB;
        try (SmtpWire wire = new SmtpWire(port, 120_000)) {
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO client.test")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            wire.write(GeneratedMessage.onTheWire("twenty", size)).write(".\r\n");
            assertThat(wire.reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.awaitQuit().digests()).hasSize(1);
        RecordingLmtpServer.Digest stored = store.digests().get(0);
        // The store gets our Received field, then exactly what was sent.
        String received = stored.head().substring(0, stored.head().indexOf("From: alice@sender.test\r\n"));
        assertThat(received).startsWith("Received: ");
        byte[] prefix = received.getBytes(StandardCharsets.ISO_8859_1);
        assertThat(stored.sha256()).isEqualTo(GeneratedMessage.sha256(prefix, "twenty", size));
        assertThat(stored.length()).isGreaterThan(size);
        assertServerHealthy();
    }

    @Test
    void oversizeMailWithoutSizeIsRefusedForGoodAtTheContainersHeapAndTheSessionStaysUsable() throws Exception {
        try (SmtpWire wire = new SmtpWire(port, 120_000)) {
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO client.test")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            wire.write(GeneratedMessage.onTheWire("oversize", MAX_MESSAGE_BYTES + 64 * 1024)).write(".\r\n");
            assertThat(wire.reply()).startsWith("552 5.3.4");

            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(wire.command("DATA")).startsWith("354");
            assertThat(wire.write("Subject: small\r\n\r\nfits\r\n.\r\n").reply()).startsWith("250");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
        assertThat(store.awaitQuit().digests()).hasSize(1);
        assertThat(store.digests().get(0).head()).endsWith("Subject: small\r\n\r\nfits\r\n");
        assertThat(store.dataCommands()).as("the oversize message never reached the store's DATA").isEqualTo(1);
        assertServerHealthy();
    }

    private void assertServerHealthy() throws IOException {
        assertThat(smtp.isAlive()).isTrue();
        assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
        assertThat(peakRssMiB()).as("smtp-in's peak resident memory, MiB").isLessThan(containerMemoryMiB());
    }

    /** The child's high-water resident set (VmHWM), what the container's memory limit is charged at least. */
    private long peakRssMiB() throws IOException {
        Path status = Path.of("/proc", String.valueOf(smtp.pid()), "status");
        if (!Files.exists(status)) {
            return -1;
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("VmHWM:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024).findFirst().orElseThrow();
    }

    /** The JVM options of the image's ENTRYPOINT: everything between "java" and "-cp". */
    private static List<String> containerJvmFlags() throws IOException {
        String dockerfile = Files.readString(projectRoot().resolve("image-build/images/mail-smtp-in/Dockerfile"));
        Matcher entrypoint = Pattern.compile("ENTRYPOINT\\s*\\[(.*?)]", Pattern.DOTALL).matcher(dockerfile.replace("\\\n", " "));
        assertThat(entrypoint.find()).as("ENTRYPOINT in the smtp-in Dockerfile").isTrue();
        List<String> words = Arrays.stream(entrypoint.group(1).split(","))
                .map(w -> w.trim().replaceAll("^\"|\"$", "")).toList();
        assertThat(words.get(0)).isEqualTo("java");
        return words.subList(1, words.indexOf("-cp"));
    }

    /** The smtp-in container's memory limit in the mail manifest. */
    private static int containerMemoryMiB() throws IOException {
        String manifest = Files.readString(projectRoot().resolve("manifests/mail/app.yaml"));
        Matcher memory = Pattern.compile("\n  smtp-in:\n(?:    .*\n|\n)*?      memory: (\\d+)MiB").matcher(manifest);
        assertThat(memory.find()).as("smtp-in's resources.memory in manifests/mail/app.yaml").isTrue();
        return Integer.parseInt(memory.group(1));
    }

    private static Path projectRoot() {
        return Path.of(System.getProperty("hearth.home", "..")).toAbsolutePath().normalize();
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Heap size and the most the heap held after any collection, from the child's GC log. */
    private String heapSummary() throws IOException {
        Path gc = dir.resolve("gc.log");
        if (!Files.exists(gc)) {
            return "no gc log";
        }
        long peakAfter = 0;
        long peakBefore = 0;
        Matcher m = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)").matcher(Files.readString(gc));
        long committed = 0;
        while (m.find()) {
            peakBefore = Math.max(peakBefore, Long.parseLong(m.group(1)));
            peakAfter = Math.max(peakAfter, Long.parseLong(m.group(2)));
            committed = Math.max(committed, Long.parseLong(m.group(3)));
        }
        return "peak-before-gc=" + peakBefore + "M peak-after-gc=" + peakAfter + "M max-committed=" + committed + "M";
    }
}
