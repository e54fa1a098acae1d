package org.hearth.core.supervisor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control socket as the CLI meets it: a real Unix socket, JSON lines, every request kind.
 * The daemon's side is a recorder (the actions themselves are tested end to end in the tests module).
 */
class ControlSocketTest {

    @TempDir
    Path dir;

    private ControlSocket socket;
    private final List<String> calls = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
    }

    private Path start() throws IOException {
        Path path = dir.resolve("control.sock");
        socket = ControlSocket.open(path, new ControlActions() {
            public String unlock(char[] passphrase) {
                calls.add("unlock " + new String(passphrase));
                return "storage unlocked";
            }

            public String lock() {
                calls.add("lock");
                return "storage locked";
            }

            public String changePassphrase(char[] current, char[] replacement) {
                calls.add("change " + new String(current) + " " + new String(replacement));
                return "passphrase changed";
            }

            public String growVolume(String app, String volume, long bytes) {
                calls.add("grow " + app + " " + volume + " " + bytes);
                return "volume grown";
            }

            public String install(String file, String manifest) {
                throw new IllegalArgumentException(file + ":7: containers.ghost.image: hearth-test/x is not built");
            }

            public String installFromCatalog(String app, Optional<String> version) {
                throw new UnsupportedOperationException();
            }

            public String upgrade(String app, Optional<String> version, java.time.Duration deadline) {
                throw new UnsupportedOperationException();
            }

            public String upgradeFromManifest(String file, String manifest, java.time.Duration deadline) {
                throw new UnsupportedOperationException();
            }

            public String remove(String app, boolean keepData) {
                calls.add("remove " + app + " " + keepData);
                return "removed " + app;
            }

            public ControlReply addDevice(String name, Optional<String> zeroTierMember) {
                calls.add("add-device " + name + " " + zeroTierMember.orElse("-"));
                return new ControlReply(true, Optional.of("device " + name + " added"), Optional.of("[Interface]\n"),
                        Optional.empty());
            }

            public String removeDevice(String name) {
                calls.add("remove-device " + name);
                return "device " + name + " removed";
            }

            public String appAdmin(String app, List<String> args, String stdin) {
                calls.add("mail " + app + " " + String.join(" ", args) + " stdin=" + stdin.strip());
                return "alice@example.org\n";
            }

            public String setSecret(String name, String value) {
                calls.add("set-secret " + name + " " + value);
                return "secret " + name + " stored";
            }

            public String removeSecret(String name) {
                calls.add("remove-secret " + name);
                return "secret " + name + " removed";
            }

            public String listSecrets() {
                calls.add("list-secrets");
                return "relay-password";
            }
        });
        return path;
    }

    private static ControlReply send(Path path, String line) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            Channels.newOutputStream(channel).write((line + "\n").getBytes(StandardCharsets.UTF_8));
            String reply = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))
                    .readLine();
            return ControlSocket.JSON.readValue(reply, ControlReply.class);
        }
    }

    private static ControlReply send(Path path, ControlRequest request) throws IOException {
        return send(path, ControlSocket.JSON.writeValueAsString(request));
    }

    @Test
    void everyRequestKindReachesItsActionWithItsFields() throws Exception {
        Path path = start();

        assertThat(send(path, new ControlRequest.Unlock("pass one")).message()).hasValue("storage unlocked");
        send(path, new ControlRequest.Lock());
        send(path, new ControlRequest.ChangePassphrase("old", "new"));
        send(path, new ControlRequest.GrowVolume("mail", "mail", 2L << 30));
        send(path, new ControlRequest.RemoveApp("mail", true));
        ControlReply device = send(path, new ControlRequest.AddDevice("phone", Optional.empty()));
        send(path, new ControlRequest.RemoveDevice("phone"));
        ControlReply users = send(path, new ControlRequest.AppAdmin("mail", List.of("user", "list"), "secret\n"));
        send(path, new ControlRequest.SetSecret("relay-password", "hunter2"));
        send(path, new ControlRequest.RemoveSecret("relay-password"));
        ControlReply secrets = send(path, new ControlRequest.ListSecrets());

        assertThat(calls).containsExactly("unlock pass one", "lock", "change old new", "grow mail mail 2147483648",
                "remove mail true", "add-device phone -", "remove-device phone", "mail mail user list stdin=secret",
                "set-secret relay-password hunter2", "remove-secret relay-password", "list-secrets");
        assertThat(secrets.message()).hasValue("relay-password");
        assertThat(device.document()).hasValue("[Interface]\n");
        assertThat(users.message()).hasValue("alice@example.org\n");
    }

    @Test
    void aFailedActionRepliesWithItsErrorNamingWhatWasWrong() throws Exception {
        Path path = start();

        ControlReply reply = send(path, new ControlRequest.InstallApp("apps/ghost.yaml", "schema: 1"));

        assertThat(reply.ok()).isFalse();
        assertThat(reply.error()).hasValue("apps/ghost.yaml:7: containers.ghost.image: hearth-test/x is not built");
    }

    @Test
    void anUnknownRequestIsRefusedByNameAndTheSocketIsOwnerOnly() throws Exception {
        Path path = start();

        ControlReply reply = send(path, "{\"command\": \"format-disk\"}");

        assertThat(reply.ok()).isFalse();
        assertThat(reply.error()).hasValueSatisfying(e -> assertThat(e).contains("format-disk"));
        assertThat(calls).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path))).isEqualTo("rw-------");
    }
}
