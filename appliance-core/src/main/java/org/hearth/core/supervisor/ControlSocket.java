package org.hearth.core.supervisor;

import com.github.dockerjava.api.DockerClient;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.hearth.core.HearthHome;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
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
 * The one way the CLI changes anything: a {@link ControlRequest} to the running supervisor, which
 * alone writes engine objects, volumes, firewall chains and overlay peers. A Unix socket in the
 * state folder, owner-only (0600); one JSON request line, one JSON {@link ControlReply} line.
 * Secrets travel over it and nowhere else: never as arguments or environment.
 */
public final class ControlSocket implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    /** Shared with the CLI's side, so both read and write the same JSON. */
    public static final ObjectMapper JSON = new ObjectMapper().registerModule(new Jdk8Module())
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final ServerSocketChannel server;
    private final Path path;
    private final ControlActions daemon;

    private ControlSocket(ServerSocketChannel server, Path path, ControlActions daemon) {
        this.server = server;
        this.path = path;
        this.daemon = daemon;
    }

    public static Path path(HearthHome home) {
        return home.state().resolve("control.sock");
    }

    /** Binds the socket (replacing a stale one) and serves requests on a daemon thread. */
    public static ControlSocket open(HearthHome home, Supervisor supervisor, ContainerRuntime runtime, DockerClient docker,
                                     InetAddress publicAddress) throws IOException {
        return open(path(home), new SupervisorActions(home, supervisor, runtime, docker, publicAddress));
    }

    static ControlSocket open(Path path, ControlActions daemon) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        ControlSocket control = new ControlSocket(server, path, daemon);
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
                ControlReply reply = line == null ? ControlReply.failed("empty request") : handle(line);
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

    private ControlReply handle(String line) {
        ControlRequest request;
        try {
            request = JSON.readValue(line, ControlRequest.class);
        } catch (IOException e) {
            return ControlReply.failed("not a request this supervisor knows: " + e.getMessage().lines().findFirst().orElse(""));
        }
        // The kind only: requests may carry passphrases and passwords.
        String kind = request.getClass().getSimpleName();
        try {
            return request.applyTo(daemon);
        } catch (KeyVault.WrongPassphraseException | AppVolumes.ThrottledException e) {
            LOG.warn("event=request-refused request={} reason={}", kind, e.getMessage());
            return ControlReply.failed(e.getMessage());
        } catch (Exception e) {
            // An exception without a message is a defect, not a refusal: keep its stack to find it.
            String error = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
            if (e.getMessage() == null) {
                LOG.warn("event=request-failed request={} error={}", kind, error, e);
            } else {
                LOG.warn("event=request-failed request={} error={}", kind, error);
            }
            return ControlReply.failed(error);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
