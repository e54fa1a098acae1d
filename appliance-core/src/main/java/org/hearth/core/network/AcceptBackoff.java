package org.hearth.core.network;

import org.hearth.core.Backoff;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What an accept loop does after {@code accept} fails: waits 10 ms doubling to 1 s, so a lasting
 * failure (EMFILE: out of file descriptors) neither spins a core nor floods the log, and says
 * each distinct failure once, with how often it repeated when it ends.
 */
final class AcceptBackoff {

    static final long MAX_WAIT_MS = 1000;
    private static final Backoff WAITS = new Backoff(Duration.ofMillis(10), Duration.ofMillis(MAX_WAIT_MS));

    private String error;
    private long repeats;
    private int failures;

    /** Records one failure; returns the log lines to write now (empty while it merely repeats). */
    List<String> failed(String message) {
        List<String> lines = new ArrayList<>();
        failures++;
        if (message.equals(error)) {
            repeats++;
            return lines;
        }
        if (error != null) {
            lines.add("event=accept-failed error=\"" + error + "\" count=" + repeats + " state=changed");
        }
        error = message;
        repeats = 1;
        lines.add("event=accept-failed error=\"" + message + "\" wait_max_ms=" + MAX_WAIT_MS);
        return lines;
    }

    /** How long to wait before the next accept. */
    long waitMs() {
        return WAITS.after(failures).toMillis();
    }

    /** Records an accept that worked; returns the line that ends a run of failures, if there was one. */
    List<String> succeeded() {
        if (error == null) {
            return List.of();
        }
        String line = "event=accept-recovered error=\"" + error + "\" count=" + repeats;
        error = null;
        repeats = 0;
        failures = 0;
        return List.of(line);
    }
}
