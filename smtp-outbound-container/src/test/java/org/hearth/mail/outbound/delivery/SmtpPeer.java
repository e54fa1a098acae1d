package org.hearth.mail.outbound.delivery;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The receiving test server (src/test/python/smtp_peer.py, aiosmtpd) on 127.0.0.1, stopped by its own PID. */
record SmtpPeer(Process process, int port) implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** On a free port; another one if that was taken before the server could bind it. */
    static SmtpPeer start(Path outDir, Map<String, Object> options) throws Exception {
        AssertionError last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                return start(outDir, options, freePort());
            } catch (AssertionError notStarted) {
                last = notStarted;
            }
        }
        throw last;
    }

    /** On a given port: a server that comes back where an earlier one was. */
    static SmtpPeer start(Path outDir, Map<String, Object> options, int port) throws Exception {
        Map<String, Object> args = new HashMap<>(options);
        args.put("port", port);
        args.put("out_dir", outDir.toString());
        Path script = Path.of("src/test/python/smtp_peer.py").toAbsolutePath();
        Process p = new ProcessBuilder("python3", script.toString(), JSON.writeValueAsString(args))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"ready".equals(first)) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(first).as("the test SMTP server started on port " + port).isEqualTo("ready");
        return new SmtpPeer(p, port);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
