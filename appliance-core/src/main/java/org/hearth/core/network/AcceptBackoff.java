package org.hearth.core.network;

import java.util.ArrayList;
import java.util.List;

/**
 * What an accept loop does after {@code accept} fails: waits 10 ms doubling to 1 s, so a lasting
 * failure (EMFILE: out of file descriptors) neither spins a core nor floods the log, and says
 * each distinct failure once, with how often it repeated when it ends.
 */
final class AcceptBackoff {

    static final long FIRST_WAIT_MS = 10;
    static final long MAX_WAIT_MS = 1000;

    private String error;
    private long repeats;
    private long waitMs;

    /** Records one failure; returns the log lines to write now (empty while it merely repeats). */
    List<String> failed(String message) {
        List<String> lines = new ArrayList<>();
        waitMs = error == null ? FIRST_WAIT_MS : Math.min(MAX_WAIT_MS, waitMs * 2);
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
        return waitMs;
    }

    /** Records an accept that worked; returns the line that ends a run of failures, if there was one. */
    List<String> succeeded() {
        if (error == null) {
            return List.of();
        }
        String line = "event=accept-recovered error=\"" + error + "\" count=" + repeats;
        error = null;
        repeats = 0;
        waitMs = 0;
        return List.of(line);
    }
}
