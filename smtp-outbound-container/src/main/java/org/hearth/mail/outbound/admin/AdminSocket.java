package org.hearth.mail.outbound.admin;

import org.hearth.mail.common.StoreLogin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Carries {@code hearth mail dns|dkim|queue} into the running service: the supervisor runs
 * {@link #main} inside the container (as it runs the store's admin program), which hands its
 * arguments to the service over the container's own loopback, reachable from nowhere else. One
 * request line (each argument base64), then the answer: {@code OK} and the text, or {@code ERR}
 * and why.
 */
public final class AdminSocket implements AutoCloseable {

    /** The service's admin port, on the container's loopback only. */
    public static final int PORT = 2588;
    private static final Logger LOG = LoggerFactory.getLogger(AdminSocket.class);
    private static final int MAX_LINE = 4096;

    private final ServerSocket server;

    private AdminSocket(ServerSocket server) {
        this.server = server;
    }

    /** Serves {@code admin} on 127.0.0.1:{@code port}, one request at a time. */
    public static AdminSocket serve(OutboundAdmin admin, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        AdminSocket socket = new AdminSocket(server);
        Thread t = new Thread(() -> socket.acceptLoop(admin), "admin");
        t.setDaemon(true);
        t.start();
        return socket;
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop(OutboundAdmin admin) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                s.setSoTimeout(10_000);
                String line = StoreLogin.readRequestLine(s.getInputStream(), MAX_LINE);
                String answer;
                try {
                    List<String> args = decode(line);
                    answer = "OK\n" + admin.run(args);
                    LOG.info("event=admin command=\"{}\"", String.join(" ", args.subList(0, Math.min(2, args.size()))));
                } catch (IllegalArgumentException e) {
                    answer = "ERR " + e.getMessage() + "\n";
                } catch (IOException | RuntimeException e) {
                    LOG.warn("event=admin-failed error={}", e.toString());
                    answer = "ERR the outbound service failed: " + e + "\n";
                }
                s.getOutputStream().write(answer.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warn("event=admin-connection-failed error={}", e.getMessage());
                }
            }
        }
    }

    /** Inside the container: {@code java … AdminSocket ARGS…}; prints the answer, exits 1 with the refusal on standard error. */
    public static void main(String[] args) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), PORT)) {
            s.setSoTimeout(120_000);
            OutputStream out = s.getOutputStream();
            out.write((encode(Arrays.asList(args)) + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (answer.startsWith("OK\n")) {
                System.out.print(answer.substring(3));
                return;
            }
            System.err.print(answer.startsWith("ERR ") ? answer.substring(4) : "no answer from the outbound service\n");
            System.exit(1);
        } catch (IOException e) {
            System.err.println("the outbound service is not answering (" + e.getMessage() + "); is it starting?");
            System.exit(1);
        }
    }

    static String encode(List<String> args) {
        List<String> words = new ArrayList<>();
        args.forEach(a -> words.add(Base64.getEncoder().encodeToString(a.getBytes(StandardCharsets.UTF_8))));
        return String.join(" ", words);
    }

    static List<String> decode(String line) {
        List<String> args = new ArrayList<>();
        for (String word : line.strip().split(" ")) {
            if (!word.isEmpty()) {
                args.add(new String(Base64.getDecoder().decode(word), StandardCharsets.UTF_8));
            }
        }
        return args;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
