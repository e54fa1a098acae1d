package org.hearth.mail.inbound;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What keeps one client from spoiling the box for others, and what a sender sees when the store is
 * away: the pre-greet test, idle timeouts that shrink while sandboxes are scarce, STARTTLS for real,
 * and 451 when the store cannot be reached. Each against the real handler under the real host.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SessionLimitsTest {

    @Test
    void aClientThatTalksBeforeTheGreetingIsDroppedUnheard() throws Exception {
        try (RunningSmtp smtp = new RunningSmtp(100_000, false); SmtpWire wire = new SmtpWire(smtp.port)) {
            wire.write("EHLO spamware.test\r\nMAIL FROM:<spam@spamware.test>\r\n");
            assertThat(wire.reply()).startsWith("220-mx.test").contains("\n554 5.5.1 Protocol error");
            assertThat(wire.rest()).isEmpty();
            assertThat(smtp.store.commands()).isEmpty();
        }
    }

    @Test
    void aPatientClientGetsTheWholeGreetingAfterThePause() throws Exception {
        try (RunningSmtp smtp = new RunningSmtp(100_000, false); SmtpWire wire = new SmtpWire(smtp.port)) {
            Instant start = Instant.now();
            assertThat(wire.reply()).isEqualTo("220-mx.test ESMTP Hearth\n220 mx.test ESMTP Hearth");
            assertThat(Duration.between(start, Instant.now())).isGreaterThanOrEqualTo(Duration.ofMillis(400));
            assertThat(wire.command("EHLO client.test")).startsWith("250");
        }
    }

    /** Postscreen's memory of the test: a sending server's next connections do not wait again. */
    @Test
    void aClientThatWaitedOnceIsGreetedAtOnceAfterAndNoOtherIs() throws Exception {
        InetAddress patient = InetAddress.getByName("127.0.0.2");
        InetAddress early = InetAddress.getByName("127.0.0.3");
        try (RunningSmtp smtp = new RunningSmtp(100_000, false)) {
            try (SmtpWire wire = new SmtpWire(smtp.port, patient)) {
                assertThat(wire.reply()).isEqualTo("220-mx.test ESMTP Hearth\n220 mx.test ESMTP Hearth");
                assertThat(wire.command("QUIT")).startsWith("221");
            }
            for (int again = 0; again < 2; again++) {
                try (SmtpWire wire = new SmtpWire(smtp.port, patient)) {
                    Instant start = Instant.now();
                    assertThat(wire.reply()).isEqualTo("220 mx.test ESMTP Hearth");
                    assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofMillis(400));
                    assertThat(wire.command("EHLO client.test")).startsWith("250");
                }
            }
            // One that talked first is not remembered: its next connection waits out the pause again.
            try (SmtpWire wire = new SmtpWire(smtp.port, early)) {
                wire.write("EHLO spamware.test\r\n");
                assertThat(wire.reply()).contains("\n554 5.5.1 Protocol error");
            }
            try (SmtpWire wire = new SmtpWire(smtp.port, early)) {
                Instant start = Instant.now();
                assertThat(wire.reply()).isEqualTo("220-mx.test ESMTP Hearth\n220 mx.test ESMTP Hearth");
                assertThat(Duration.between(start, Instant.now())).isGreaterThanOrEqualTo(Duration.ofMillis(400));
            }
        }
    }

    @Test
    void silentClientsAreCutShortOnceSandboxesGetScarce() throws Exception {
        Map<String, String> settings = Map.of("HEARTH_SANDBOXES", "4", "SMTP_IDLE_SECONDS", "60",
                "SMTP_SCARCE_IDLE_SECONDS", "2", "SMTP_GREET_PAUSE_MS", "0");
        try (RunningSmtp smtp = new RunningSmtp(new RecordingLmtpServer(), 100_000, false, settings)) {
            List<SmtpWire> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    silent.add(new SmtpWire(smtp.port, 20_000));
                    assertThat(silent.get(i).reply()).startsWith("220");
                }
                // Two of four busy: not scarce, so a silent client may stay well beyond 2 s.
                Thread.sleep(3_000);
                assertThat(silent.get(0).command("NOOP")).startsWith("250");
                // A third makes three of four: every sandbox is told, and silent ones go within the short timeout.
                silent.add(new SmtpWire(smtp.port, 20_000));
                assertThat(silent.get(2).reply()).startsWith("220");
                Instant start = Instant.now();
                assertThat(silent.get(1).reply()).startsWith("421 4.4.2");
                assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(10));
            } finally {
                for (SmtpWire wire : silent) {
                    wire.close();
                }
            }
            assertThat(smtp.output()).anyMatch(line -> line.contains("event=sandboxes-scarce"));
        }
    }

    @Test
    void startTlsGivesAnEncryptedSessionThatStartsOverWithEhlo() throws Exception {
        try (RunningSmtp smtp = new RunningSmtp(100_000, false);
             Socket plain = new Socket(InetAddress.getLoopbackAddress(), smtp.port)) {
            plain.setSoTimeout(10_000);
            Conversation clear = new Conversation(plain);
            assertThat(clear.reply()).startsWith("220-").contains("\n220 ");
            assertThat(clear.command("EHLO client.test")).contains("STARTTLS");
            assertThat(clear.command("STARTTLS")).startsWith("220 2.0.0");
            SSLSocket tls = (SSLSocket) trustingAll().getSocketFactory().createSocket(plain, "mx.test", smtp.port, true);
            tls.startHandshake();
            Conversation secret = new Conversation(tls);
            assertThat(secret.command("MAIL FROM:<alice@sender.test>")).startsWith("503");
            assertThat(secret.command("EHLO client.test")).startsWith("250").doesNotContain("STARTTLS");
            assertThat(secret.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(secret.command("RCPT TO:<bob@hearth.test>")).startsWith("250");
            assertThat(secret.command("DATA")).startsWith("354");
            assertThat(secret.command("Subject: sealed\r\n\r\nhello\r\n.")).startsWith("250");
            assertThat(secret.command("QUIT")).startsWith("221");
            assertThat(smtp.store.awaitQuit().messages()).singleElement().asString().contains("with ESMTPS id ");
        }
    }

    @Test
    void startTlsOffersTheBoxCertificateOnceHandedOverAndEachRenewalWithNoRestart() throws Exception {
        // Not under /tmp: each sandbox has a fresh /tmp of its own.
        Path secrets = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "secrets");
        try (RunningSmtp smtp = new RunningSmtp(new RecordingLmtpServer(), 100_000, false,
                Map.of("HEARTH_SECRETS", secrets.toString(), "SMTP_GREET_PAUSE_MS", "0"))) {
            assertThat(offered(smtp)).isEqualTo("CN=mx.test");
            Path first = certificate(secrets.resolve("first"), "mx.alice.test");
            install(first, secrets);
            assertThat(offered(smtp)).isEqualTo("CN=mx.alice.test");
            // Caught half replaced (the new chain, the old key): the self-signed one serves meanwhile.
            Path renewed = certificate(secrets.resolve("renewed"), "mx.alice.test renewed");
            Files.copy(renewed.resolve("chain.pem"), secrets.resolve("tls-chain.pem"), StandardCopyOption.REPLACE_EXISTING);
            assertThat(offered(smtp)).isEqualTo("CN=mx.test");
            assertThat(smtp.output()).anyMatch(line -> line.contains("event=certificate-unreadable"));
            install(renewed, secrets);
            assertThat(offered(smtp)).isEqualTo("CN=mx.alice.test renewed");
        }
    }

    /** The subject of the certificate a STARTTLS handshake is offered now. */
    private static String offered(RunningSmtp smtp) throws Exception {
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), smtp.port)) {
            plain.setSoTimeout(10_000);
            SSLSocket tls = startTls(plain, smtp.port);
            String subject = ((X509Certificate) tls.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
            new Conversation(tls).command("QUIT");
            return subject;
        }
    }

    /** Greeting, EHLO and STARTTLS on {@code plain}, then the handshake. */
    private static SSLSocket startTls(Socket plain, int port) throws Exception {
        Conversation clear = new Conversation(plain);
        clear.reply();
        clear.command("EHLO client.test");
        assertThat(clear.command("STARTTLS")).startsWith("220 2.0.0");
        SSLSocket tls = (SSLSocket) trustingAll().getSocketFactory().createSocket(plain, "mx.test", port, true);
        tls.startHandshake();
        return tls;
    }

    /** A self-signed certificate and its PKCS#8 key, made with the handler's own Perl modules. */
    private static Path certificate(Path folder, String name) throws Exception {
        Files.createDirectories(folder);
        Process p = new ProcessBuilder("perl", "-MIO::Socket::SSL::Utils", "-e",
                "my ($c, $k) = CERT_create(subject => { commonName => $ARGV[0] }, key => KEY_create_ec());"
                        + " PEM_cert2file($c, \"$ARGV[1]/chain.pem\"); PEM_key2file($k, \"$ARGV[1]/key.pem\");",
                name, folder.toString()).redirectErrorStream(true).start();
        assertThat(new String(p.getInputStream().readAllBytes())).isEmpty();
        assertThat(p.waitFor()).isZero();
        return folder;
    }

    /** As the supervisor hands it over: the key, then the chain, each replaced whole. */
    private static void install(Path from, Path secrets) throws Exception {
        for (String[] f : new String[][] {{"key.pem", "tls-key.pem"}, {"chain.pem", "tls-chain.pem"}}) {
            Files.copy(from.resolve(f[0]), secrets.resolve(".next"), StandardCopyOption.REPLACE_EXISTING);
            Files.move(secrets.resolve(".next"), secrets.resolve(f[1]), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void insideTlsASilentOrHalfSentClientStillMeetsTheIdleTimeout() throws Exception {
        try (RunningSmtp smtp = new RunningSmtp(new RecordingLmtpServer(), 100_000, false,
                Map.of("SMTP_IDLE_SECONDS", "2", "SMTP_GREET_PAUSE_MS", "0"));
             Socket plain = new Socket(InetAddress.getLoopbackAddress(), smtp.port)) {
            plain.setSoTimeout(15_000);
            SSLSocket tls = startTls(plain, smtp.port);
            Conversation secret = new Conversation(tls);
            assertThat(secret.command("EHLO client.test")).startsWith("250");
            // The first byte of a TLS record, and nothing more: the server must not wait inside the record.
            plain.getOutputStream().write(0x17);
            plain.getOutputStream().flush();
            Instant start = Instant.now();
            assertThat(secret.reply()).startsWith("421 4.4.2");
            assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(8));
        }
    }

    @Test
    void anUnreachableStoreDefersEveryRecipientWith451() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        try (RunningSmtp smtp = new RunningSmtp(new RecordingLmtpServer(), 100_000, false,
                Map.of("MAIL_STORE_LMTP", "127.0.0.1:" + closedPort));
             SmtpWire wire = new SmtpWire(smtp.port)) {
            assertThat(wire.reply()).startsWith("220");
            assertThat(wire.command("EHLO client.test")).startsWith("250");
            assertThat(wire.command("MAIL FROM:<alice@sender.test>")).startsWith("250");
            assertThat(wire.command("RCPT TO:<bob@hearth.test>")).startsWith("451 4.3.0");
            assertThat(wire.command("DATA")).startsWith("554");
            assertThat(wire.command("QUIT")).startsWith("221");
        }
    }

    /** An MX's certificate is not checked by senders (opportunistic TLS); neither is it here. */
    private static SSLContext trustingAll() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    /** Line-based SMTP over any socket, plain or TLS. */
    private static final class Conversation {
        private final BufferedReader in;
        private final OutputStream out;

        Conversation(Socket socket) throws Exception {
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
        }

        String command(String line) throws Exception {
            out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return reply();
        }

        String reply() throws Exception {
            StringBuilder reply = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                reply.append(reply.length() == 0 ? "" : "\n").append(line);
                if (line.length() < 4 || line.charAt(3) != '-') {
                    break;
                }
            }
            return reply.toString();
        }
    }
}
