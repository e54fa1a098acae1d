package org.hearth.core;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host tool (mkfs, cryptsetup, ip, wg); a failure is an IOException naming the command and
 * its output.
 */
public final class SystemTool {

    private SystemTool() {
    }

    public static String run(String... cmd) throws IOException {
        return run(new byte[0], cmd);
    }

    /** Runs {@code cmd} with {@code stdin} as its input: secrets go through a pipe, never the command line. */
    public static String run(byte[] stdin, String... cmd) throws IOException {
        return run(Map.of(), stdin, cmd);
    }

    /** Runs {@code cmd} with {@code environment} added to this process's own. */
    public static String run(Map<String, String> environment, byte[] stdin, String... cmd) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process p = builder.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin);
        } catch (IOException ignored) {
            // the tool exited without reading its input; its exit code and output tell why
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", List.of(cmd)) + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd[0], e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", List.of(cmd)) + " failed (exit " + p.exitValue() + "): " + out.strip());
        }
        return out;
    }
}
