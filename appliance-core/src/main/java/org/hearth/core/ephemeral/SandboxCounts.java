package org.hearth.core.ephemeral;

import org.hearth.core.StatusReport;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A sandbox host's counts as its status port answers them (image-build/sandbox/hearth-sandbox-host):
 * one {@link StatusReport} line, {@code created=N destroyed=N failed=N busy=N sandboxes=N}.
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
        return StatusReport.read(status, timeout).flatMap(SandboxCounts::of);
    }

    static Optional<SandboxCounts> parse(String line) {
        return of(StatusReport.parse(line));
    }

    private static Optional<SandboxCounts> of(Map<String, String> facts) {
        long[] counts = new long[5];
        List<String> keys = List.of("created", "destroyed", "failed", "busy", "sandboxes");
        for (int i = 0; i < counts.length; i++) {
            String value = facts.get(keys.get(i));
            if (value == null || !value.matches("[0-9]{1,18}")) {
                return Optional.empty();
            }
            counts[i] = Long.parseLong(value);
        }
        return Optional.of(new SandboxCounts(counts[0], counts[1], counts[2], counts[3], counts[4]));
    }
}
