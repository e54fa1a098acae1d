package org.hearth.core.ephemeral;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A sandbox host's counts as its status port answers them (image-build/sandbox/hearth-sandbox-host):
 * one line, {@code created=N destroyed=N failed=N busy=N sandboxes=N}.
 *
 * @param created   sandboxes forked since the host started, one per connection or message
 * @param destroyed sandboxes that have exited and been reaped
 * @param failed    sandboxes that could not be set up (fork or namespace failure)
 * @param busy      sandboxes alive now
 * @param sandboxes most sandboxes the host allows at once
 */
public record SandboxCounts(long created, long destroyed, long failed, long busy, long sandboxes) {

    /** Asks the host at {@code status}; empty if it does not answer a well-formed line in time. */
    public static Optional<SandboxCounts> read(InetSocketAddress status, Duration timeout) {
        try (Socket s = new Socket()) {
            s.connect(status, (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            return parse(line == null ? "" : line);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Optional<SandboxCounts> parse(String line) {
        Map<String, Long> fields = new HashMap<>();
        for (String pair : line.strip().split(" ")) {
            String[] kv = pair.split("=", 2);
            if (kv.length == 2 && kv[1].matches("[0-9]{1,18}")) {
                fields.put(kv[0], Long.parseLong(kv[1]));
            }
        }
        if (!fields.keySet().containsAll(List.of("created", "destroyed", "failed", "busy", "sandboxes"))) {
            return Optional.empty();
        }
        return Optional.of(new SandboxCounts(fields.get("created"), fields.get("destroyed"), fields.get("failed"),
                fields.get("busy"), fields.get("sandboxes")));
    }
}
