package org.hearth.core.runtime;

import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Port and greeting probes against real sockets on loopback, standing in for a container's address. */
class ReadinessProbeTest {

    private static ContainerInfo at(String network) {
        return new ContainerInfo("c0ffee", "c", "sha256:x", Map.of(), true, Optional.empty(), Optional.of(Instant.now()),
                Map.of(network, "127.0.0.1"));
    }

    @Test
    void aPortProbeIsReadyOnceTheServiceAcceptsAndSaysWhyNotBefore() throws IOException {
        int port;
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            port = server.getLocalPort();
            assertThat(ReadinessProbe.port(port, Optional.of("ingress")).check(at("ingress"), Duration.ofSeconds(1)))
                    .isEmpty();
        }
        assertThat(ReadinessProbe.port(port, Optional.of("ingress")).check(at("ingress"), Duration.ofSeconds(1)))
                .hasValueSatisfying(why -> assertThat(why).startsWith("tcp 127.0.0.1:" + port + ": "));
        assertThat(ReadinessProbe.port(port, Optional.of("edge")).check(at("ingress"), Duration.ofSeconds(1)))
                .hasValue("tcp no address on edge");
    }

    @Test
    void aGreetingProbeWaitsForTheFirstLineNotJustTheConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            ReadinessProbe greeting = ReadinessProbe.greeting(server.getLocalPort(), Optional.empty());
            Thread silent = new Thread(() -> {
                try (Socket s = server.accept()) {
                    Thread.sleep(1_000);
                } catch (IOException | InterruptedException ignored) {
                    // The probe gave up first.
                }
            });
            silent.start();
            assertThat(greeting.check(at("ingress"), Duration.ofMillis(300)))
                    .as("accepting but silent: not ready").isPresent();
            silent.join();

            Thread greeter = new Thread(() -> {
                try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                    out.write("220 ready\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(200);
                } catch (IOException | InterruptedException ignored) {
                    // Done.
                }
            });
            greeter.start();
            assertThat(greeting.check(at("ingress"), Duration.ofSeconds(2))).isEmpty();
            greeter.join();
        }
    }
}
