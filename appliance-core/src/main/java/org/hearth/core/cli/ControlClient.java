package org.hearth.core.cli;

import org.hearth.core.HearthHome;
import org.hearth.core.supervisor.ControlReply;
import org.hearth.core.supervisor.ControlRequest;
import org.hearth.core.supervisor.ControlSocket;
import org.hearth.core.supervisor.SupervisorProcess;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * Sends one request to the running supervisor's control socket, the CLI's only way to change
 * anything; a refusal becomes an error naming why.
 */
final class ControlClient {

    private ControlClient() {
    }

    /** The supervisor's reply on success; its error as an exception otherwise. */
    static ControlReply send(HearthHome home, ControlRequest request) throws IOException {
        var path = ControlSocket.path(home);
        if (!Files.exists(path) || SupervisorProcess.running(home).isEmpty()) {
            throw new IllegalStateException("the supervisor is not running for " + home.state() + " (start it: hearth up)");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            Channels.newOutputStream(channel).write((ControlSocket.JSON.writeValueAsString(request) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))
                    .readLine();
            if (line == null) {
                throw new IllegalStateException("the supervisor closed the control socket without answering");
            }
            ControlReply reply = ControlSocket.JSON.readValue(line, ControlReply.class);
            if (!reply.ok()) {
                throw new IllegalStateException(reply.error().orElse("the supervisor refused without a reason"));
            }
            return reply;
        }
    }

    /** The supervisor's message on success. */
    static String message(HearthHome home, ControlRequest request) throws IOException {
        return send(home, request).message().orElse("done");
    }
}
