package org.hearth.core.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hearth.core.HearthHome;
import org.hearth.core.supervisor.ControlSocket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/** Sends one request to the running supervisor's control socket; a refusal becomes an error naming why. */
final class ControlClient {

    static final ObjectMapper JSON = new ObjectMapper();

    private ControlClient() {
    }

    static ObjectNode request(String command) {
        return JSON.createObjectNode().put("command", command);
    }

    /** The supervisor's message on success. */
    static String send(HearthHome home, ObjectNode request) throws IOException {
        var path = ControlSocket.path(home);
        if (!Files.exists(path)) {
            throw new IllegalStateException("the supervisor is not running for " + home.state() + " (start it: hearth up)");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            Channels.newOutputStream(channel).write((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
            String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))
                    .readLine();
            if (line == null) {
                throw new IllegalStateException("the supervisor closed the control socket without answering");
            }
            JsonNode reply = JSON.readTree(line);
            if (!reply.path("ok").asBoolean()) {
                throw new IllegalStateException(reply.path("error").asText());
            }
            return reply.path("message").asText();
        }
    }
}
