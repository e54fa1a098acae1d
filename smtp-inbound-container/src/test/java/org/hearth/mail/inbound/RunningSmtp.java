package org.hearth.mail.inbound;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real smtp-in on loopback: Hearth's sandbox host (image-build/sandbox) serving the SMTP handler
 * (src/main/perl/smtp-handler.pl), each connection in a sandbox of its own as in the image, in front
 * of a recording LMTP peer. Needs perl with IO::Socket::SSL (scripts/test installs it).
 */
final class RunningSmtp implements AutoCloseable {

    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path SANDBOX = MODULE.resolveSibling("image-build").resolve("sandbox");
    static final Path HANDLER = MODULE.resolve("src/main/perl/smtp-handler.pl");

    final RecordingLmtpServer store;
    final int port;
    final int statusPort;
    private final Process host;
    private final List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Path lib;

    RunningSmtp(long maxSize, boolean proxied) throws Exception {
        this(new RecordingLmtpServer(), maxSize, proxied, Map.of());
    }

    /** @param proxied every connection must start with a PROXY protocol header; settings add to or override the environment */
    RunningSmtp(RecordingLmtpServer store, long maxSize, boolean proxied, Map<String, String> settings) throws Exception {
        this.store = store;
        port = freePort();
        statusPort = freePort();
        // The host loads Hearth::Sandbox from a Hearth/ folder, as the image lays it out.
        lib = Files.createTempDirectory("hearth-sandbox-lib");
        Files.createDirectories(lib.resolve("Hearth"));
        for (String module : new String[]{"Sandbox.pm", "ServerTls.pm"}) {
            Files.copy(SANDBOX.resolve(module), lib.resolve("Hearth").resolve(module), StandardCopyOption.REPLACE_EXISTING);
        }
        ProcessBuilder builder = new ProcessBuilder("perl", "-I", lib.toString(), SANDBOX.resolve("hearth-sandbox-host").toString(),
                "--role", "smtp-in", "--bind", "127.0.0.1", "--listen", String.valueOf(port), "--status", String.valueOf(statusPort),
                "--handler", HANDLER.toString());
        Map<String, String> env = builder.environment();
        env.put("MAIL_HOSTNAME", "mx.test");
        env.put("MAIL_STORE_LMTP", "127.0.0.1:" + store.address().getPort());
        env.put("MAX_MESSAGE_BYTES", String.valueOf(maxSize));
        env.put("STORE_TIMEOUT_SECONDS", "10");
        env.put("HEARTH_SANDBOXES", "8");
        env.put("HEARTH_PROXY_PROTOCOL_PORTS", proxied ? String.valueOf(port) : "");
        env.putAll(new HashMap<>(settings));
        builder.redirectErrorStream(true);
        host = builder.start();
        Thread reader = new Thread(this::readOutput, "smtp-in-output");
        reader.setDaemon(true);
        reader.start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (output.stream().noneMatch(line -> line.contains("event=ready"))) {
            if (!host.isAlive() || Instant.now().isAfter(deadline)) {
                close();
                throw new IllegalStateException("smtp-in did not start: " + output);
            }
            Thread.sleep(20);
        }
    }

    /** The sandbox host; its descendants are the sandboxes. */
    ProcessHandle hostProcess() {
        return host.toHandle();
    }

    /** What the host and its sandboxes printed so far (events, errors). */
    List<String> output() {
        return List.copyOf(output);
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                output.add(line);
            }
        } catch (IOException e) {
            output.add("(output lost: " + e.getMessage() + ")");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        host.destroy();
        if (!host.waitFor(10, TimeUnit.SECONDS)) {
            host.destroyForcibly();
        }
        store.close();
        Files.deleteIfExists(lib.resolve("Hearth/Sandbox.pm"));
        Files.deleteIfExists(lib.resolve("Hearth/ServerTls.pm"));
        Files.deleteIfExists(lib.resolve("Hearth"));
        Files.deleteIfExists(lib);
    }
}
