package org.hearth.core.supervisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hearth.core.HearthHome;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * How the CLI asks the running supervisor for what only it can do, because only it holds the
 * master key: unlock, lock, change the passphrase, grow a volume. A Unix socket in the state
 * folder, owner-only (0600); one JSON request line, one JSON reply line. Secrets travel over it
 * and nowhere else: never as arguments or environment.
 */
public final class ControlSocket implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServerSocketChannel server;
    private final Path path;
    private final Supervisor supervisor;

    private ControlSocket(ServerSocketChannel server, Path path, Supervisor supervisor) {
        this.server = server;
        this.path = path;
        this.supervisor = supervisor;
    }

    public static Path path(HearthHome home) {
        return home.state().resolve("control.sock");
    }

    /** Binds the socket (replacing a stale one) and serves requests on a daemon thread. */
    public static ControlSocket open(HearthHome home, Supervisor supervisor) throws IOException {
        Path path = path(home);
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        ControlSocket control = new ControlSocket(server, path, supervisor);
        Thread t = new Thread(control::serve, "control-socket");
        t.setDaemon(true);
        t.start();
        return control;
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
                String line = in.readLine();
                ObjectNode reply = line == null ? error("empty request") : handle(line);
                OutputStream out = Channels.newOutputStream(client);
                out.write((JSON.writeValueAsString(reply) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("event=control-failed error={}", e.getMessage());
                }
            }
        }
    }

    private ObjectNode handle(String line) {
        JsonNode request;
        try {
            request = JSON.readTree(line);
        } catch (IOException e) {
            return error("the request is not JSON");
        }
        String command = request.path("command").asText();
        try {
            switch (command) {
                case "unlock" -> {
                    boolean first = !supervisor.passphraseSet();
                    supervisor.unlock(request.path("passphrase").asText().toCharArray());
                    return ok(first ? "passphrase set and storage unlocked" : "storage unlocked");
                }
                case "lock" -> {
                    supervisor.lock();
                    return ok("storage locked");
                }
                case "change-passphrase" -> {
                    supervisor.changePassphrase(request.path("current").asText().toCharArray(),
                            request.path("replacement").asText().toCharArray());
                    return ok("passphrase changed");
                }
                case "grow-volume" -> {
                    supervisor.growVolume(request.path("app").asText(), request.path("volume").asText(),
                            request.path("bytes").asLong());
                    return ok("volume grown");
                }
                default -> {
                    return error("unknown command \"" + command + "\"");
                }
            }
        } catch (KeyVault.WrongPassphraseException | AppVolumes.ThrottledException e) {
            LOG.warn("event={}-refused reason={}", command, e.getMessage());
            return error(e.getMessage());
        } catch (Exception e) {
            LOG.warn("event={}-failed error={}", command, e.getMessage());
            return error(e.getMessage());
        }
    }

    private static ObjectNode ok(String message) {
        return JSON.createObjectNode().put("ok", true).put("message", message);
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("ok", false).put("error", message == null ? "failed" : message);
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
