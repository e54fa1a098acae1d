package org.hearth.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client command whose deadline holds. Its output goes to files, not pipes, so nothing has to be
 * read before {@code waitFor} (reading a pipe to the end blocks until the client exits, and the
 * timeout never fires); on a timeout the client is killed and the test fails with the command and
 * what it had printed so far.
 */
final class ClientProcess {

    record Result(int exitCode, String stdout, String stderr) {
    }

    private final List<String> command;
    private final Process process;
    private final Path out;
    private final Path err;

    private ClientProcess(List<String> command, Process process, Path out, Path err) {
        this.command = command;
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static ClientProcess start(List<String> command) {
        try {
            Path out = Files.createTempFile("client-out", ".txt");
            Path err = Files.createTempFile("client-err", ".txt");
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            return new ClientProcess(List.copyOf(command), p, out, err);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code command} to its end, or kills it and fails after {@code timeout}. */
    static Result run(List<String> command, Duration timeout) {
        return start(command).finish(timeout);
    }

    /** Waits until the client has printed {@code line} on standard error; fails if it exits or the deadline passes first. */
    void awaitStderrLine(String line, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (!read(err).lines().anyMatch(line::equals)) {
            if (!process.isAlive()) {
                throw new AssertionError(describe() + " exited " + process.exitValue() + " before printing \"" + line
                        + "\"" + output());
            }
            if (Instant.now().isAfter(deadline)) {
                kill();
                throw new AssertionError(describe() + " did not print \"" + line + "\" within " + timeout + output());
            }
            pause(50);
        }
    }

    /** Waits for the end with a deadline; on timeout kills the client and fails with its partial output. */
    Result finish(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                throw new AssertionError(describe() + " did not finish within " + timeout + "; killed" + output());
            }
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + describe(), e);
        }
        Result r = new Result(process.exitValue(), read(out), read(err));
        delete();
        return r;
    }

    String describe() {
        return String.join(" ", command);
    }

    private void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String output() {
        String o = read(out);
        String e = read(err);
        delete();
        return "\nstdout so far: " + o + "\nstderr so far: " + e;
    }

    private void delete() {
        try {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        } catch (IOException e) {
            // a temp file left behind is harmless
        }
    }

    private static String read(Path file) {
        try {
            // Bytes, not readString: partial output may end inside a UTF-8 sequence.
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
