package org.hearth.core.supervisor;

import java.util.Optional;

/**
 * The supervisor's answer to one {@link ControlRequest}.
 *
 * @param message  what the owner is told on success
 * @param document a text the CLI shows as it is (a new device's WireGuard configuration)
 * @param error    on failure: what was wrong, naming the file, field or thing
 */
public record ControlReply(boolean ok, Optional<String> message, Optional<String> document, Optional<String> error) {

    static ControlReply of(String message) {
        return new ControlReply(true, Optional.of(message), Optional.empty(), Optional.empty());
    }

    static ControlReply failed(String error) {
        return new ControlReply(false, Optional.empty(), Optional.empty(), Optional.of(error == null ? "failed" : error));
    }
}
