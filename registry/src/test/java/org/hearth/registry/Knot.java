package org.hearth.registry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real authoritative server for the registry's tests: Debian's Knot DNS on loopback (or on an
 * address of a network namespace, port 53: the zone's server in a simulated internet), serving one
 * zone that takes dynamic updates signed with a TSIG key made here, and nothing unsigned.
 */
final class Knot implements AutoCloseable {

    final String address;
    final int port;
    final String keyName = "registry-key";
    final String secret;
    private final Process process;

    /** On loopback, at a free port. */
    Knot(Path dir, String zone) throws IOException, InterruptedException {
        this(dir, zone, null, "127.0.0.1", freePort());
    }

    /** Inside network namespace {@code namespace} (none: this one), listening on {@code address}:{@code port}. */
    Knot(Path dir, String zone, String namespace, String address, int port) throws IOException, InterruptedException {
        this.address = address;
        this.port = port;
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        secret = Base64.getEncoder().encodeToString(raw);
        Files.createDirectories(dir.resolve("db"));
        Files.writeString(dir.resolve(zone + ".zone"), String.join("\n",
                "$ORIGIN " + zone + ".", "$TTL 300", "@ SOA ns hostmaster 1 3600 600 86400 60", "@ NS ns", "ns A " + address, ""));
        Files.writeString(dir.resolve("knot.conf"), String.join("\n",
                "server:", "    rundir: \"" + dir + "\"", "    listen: " + address + "@" + port,
                "database:", "    storage: \"" + dir.resolve("db") + "\"",
                "log:", "  - target: stderr", "    any: info",
                "key:", "  - id: " + keyName, "    algorithm: hmac-sha256", "    secret: " + secret,
                "acl:", "  - id: registry-updates", "    key: " + keyName, "    action: update",
                "zone:", "  - domain: " + zone, "    storage: \"" + dir + "\"", "    file: \"" + zone + ".zone\"",
                "    acl: registry-updates", ""));
        // knotd must be installed (Debian's knot, scripts/host-packages): the test fails without it.
        List<String> knotd = List.of("knotd", "-c", dir.resolve("knot.conf").toString());
        List<String> command = new java.util.ArrayList<>();
        if (namespace != null) {
            // ip netns exec becomes knotd (execvp): the process ended here is the server itself.
            command.addAll(List.of("ip", "netns", "exec", namespace));
        }
        command.addAll(knotd);
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Void> loaded = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                    if (line.contains("[" + zone + ".] loaded") || line.contains("[" + zone + "] loaded")) {
                        loaded.complete(null);
                    }
                }
            } catch (IOException ignored) {
                // The process ended.
            }
            loaded.completeExceptionally(new IOException("knotd ended: " + log));
        }, "knotd-log");
        reader.setDaemon(true);
        reader.start();
        try {
            loaded.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroy();
            throw new IOException("knotd did not load " + zone + ": " + log, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
