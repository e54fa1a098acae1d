package org.hearth.core.runtime;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Whether a running container is ready, asked from the supervisor's side, once per call: a TCP
 * port that accepts, an SMTP-like service whose greeting has arrived, a line in its output, or a
 * command inside it that exits 0. Warm pools ask it until a fresh container is ready; health checks
 * ask it at the declared interval. A probe sends nothing, so no client data is ever involved.
 */
public interface ReadinessProbe {

    /** Empty when ready; otherwise what the probe saw, for the status. */
    Optional<String> check(ContainerInfo container, Duration timeout);

    /** Accepts a TCP connection on {@code port}, on the container's address on {@code network} (or any of its addresses). */
    static ReadinessProbe port(int port, Optional<String> network) {
        return (container, timeout) -> connect(container, port, network, timeout, false);
    }

    /** Accepts on {@code port} and says its first line (SMTP's banner): its first session has run, and the next is quick. */
    static ReadinessProbe greeting(int port, Optional<String> network) {
        return (container, timeout) -> connect(container, port, network, timeout, true);
    }

    /** {@code line} appears in what the container has printed since it started. */
    static ReadinessProbe logLine(ContainerRuntime runtime, String line) {
        return (container, timeout) -> runtime.logsSince(container.id(), container.startedAt().orElse(Instant.EPOCH))
                .contains(line) ? Optional.empty() : Optional.of("\"" + line + "\" not in its output yet");
    }

    /** {@code command} run inside the container exits 0. */
    static ReadinessProbe command(ContainerRuntime runtime, List<String> command) {
        return (container, timeout) -> {
            try {
                ContainerRuntime.Run run = runtime.exec(container.id(), command, timeout);
                if (run.exitCode() == 0) {
                    return Optional.empty();
                }
                String output = lastLine(run.output().stderr()).or(() -> lastLine(run.output().stdout()))
                        .map(line -> ": " + line).orElse(" (no output)");
                return Optional.of(String.join(" ", command) + " exited " + run.exitCode() + output);
            } catch (RuntimeException e) {
                return Optional.of(String.join(" ", command) + " could not run: " + e.getMessage());
            }
        };
    }

    /** The probe a manifest's health check declares; a declared port the container lacks is reported by the probe. */
    static ReadinessProbe declared(ContainerRuntime runtime, AppManifest.Container decl, AppManifest.Health health) {
        if (health.tcp().isPresent()) {
            String name = health.tcp().get();
            return decl.port(name).map(p -> port(p.port(), Optional.empty()))
                    .orElse((container, timeout) -> Optional.of("no port named " + name));
        }
        if (!health.command().isEmpty()) {
            return command(runtime, health.command());
        }
        if (health.log().isPresent()) {
            return logLine(runtime, health.log().get());
        }
        return (container, timeout) -> Optional.empty();
    }

    private static Optional<String> connect(ContainerInfo container, int port, Optional<String> network,
                                            Duration timeout, boolean awaitGreeting) {
        List<String> addresses = network.map(n -> Optional.ofNullable(container.addresses().get(n)).stream().toList())
                .orElse(List.copyOf(container.addresses().values()));
        String last = network.map(n -> "no address on " + n).orElse("the container has no address");
        for (String address : addresses) {
            try (Socket probe = new Socket()) {
                long deadline = System.nanoTime() + timeout.toNanos();
                probe.connect(new InetSocketAddress(address, port), (int) Math.max(1, timeout.toMillis()));
                if (awaitGreeting) {
                    probe.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                    if (probe.getInputStream().read() < 0) {
                        return Optional.of(address + ":" + port + ": closed before its greeting");
                    }
                }
                return Optional.empty();
            } catch (IOException e) {
                // Try the container's next network, if any.
                last = address + ":" + port + ": " + e.getMessage();
            }
        }
        return Optional.of("tcp " + last);
    }

    private static Optional<String> lastLine(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        String[] lines = text.strip().split("\n");
        String line = lines[lines.length - 1].strip();
        return Optional.of(line.length() > 200 ? line.substring(0, 200) + "…" : line);
    }
}
