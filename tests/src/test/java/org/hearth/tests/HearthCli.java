package org.hearth.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ./hearth} launcher with a test's own state folder, as a user would. */
final class HearthCli {

    private final Path stateDir;

    HearthCli(Path stateDir) {
        this.stateDir = stateDir;
    }

    record Result(int exitCode, String stdout, String stderr) {
    }

    Result run(String... args) {
        return runWithInput("", args);
    }

    /** Runs with {@code input} on standard input (how passwords reach the CLI). */
    Result runWithInput(String input, String... args) {
        List<String> cmd = new ArrayList<>(List.of(EngineFixture.home().root().resolve("hearth").toString(),
                "--state-dir", stateDir.toString()));
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("hearth-out", ".txt");
            Path err = Files.createTempFile("hearth-err", ".txt");
            Path in = Files.createTempFile("hearth-in", ".txt");
            Files.writeString(in, input);
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(in.toFile()).start();
            // Longer than any --timeout a test passes (at most 300 s), so the CLI's own reason for
            // giving up reaches the report instead of this kill.
            if (!p.waitFor(6, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("hearth " + String.join(" ", args) + " did not finish in 6 minutes; output so far:\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            Files.delete(in);
            return r;
        } catch (IOException e) {
            throw new AssertionError("cannot run hearth: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Runs and insists on success, showing the output if not. */
    Result ok(String... args) {
        return okWithInput("", args);
    }

    Result okWithInput(String input, String... args) {
        Result r = runWithInput(input, args);
        if (r.exitCode() != 0) {
            throw new AssertionError("hearth " + String.join(" ", args) + " exited " + r.exitCode()
                    + "\nstdout: " + r.stdout() + "\nstderr: " + r.stderr());
        }
        return r;
    }
}
