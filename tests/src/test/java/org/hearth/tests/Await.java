package org.hearth.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Polling for what the engine tests wait on: mail arriving, a queue showing an error, a status line. */
final class Await {

    private Await() {
    }

    /** A check that has a value once what is awaited happened. */
    interface Check<T> {
        Optional<T> get() throws Exception;
    }

    /** What the failure says besides the time-out: the logs that explain it. */
    interface Context {
        String describe() throws IOException;
    }

    /** Polls every 250 ms until {@code check} gives a value; on time-out, fails with {@code context}. */
    static <T> T until(Duration limit, Context context, Check<T> check) throws Exception {
        Instant deadline = Instant.now().plus(limit);
        while (true) {
            Optional<T> value = check.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("not within " + limit.toSeconds() + " s; " + context.describe());
            }
            Thread.sleep(250);
        }
    }

    /** The last 30 lines of the supervisor's log in the instance's {@code state} folder. */
    static String supervisorLog(Path state) throws IOException {
        List<String> lines = Files.readAllLines(state.resolve("logs/supervisor.log"));
        return "supervisor log tail: " + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }
}
