package org.hearth.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host tool (mkfs, cryptsetup, ip, wg); a failure is an IOException naming the command and
 * its output. A tool that hangs is killed at its deadline, so a stuck {@code ip} or {@code wg}
 * cannot stall the supervisor's pass for ever.
 */
public final class SystemTool {

    /** Long enough for mkfs or resize2fs of a large volume on an SD card. */
    static final Duration DEADLINE = Duration.ofSeconds(120);
    /** After the tool exits, how long its output may still take to drain (a child it left may hold it open). */
    private static final Duration DRAIN = Duration.ofSeconds(2);

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
        Result r = attempt(DEADLINE, environment, stdin, cmd);
        if (r.exitCode() != 0) {
            throw new IOException(String.join(" ", List.of(cmd)) + " failed (exit " + r.exitCode() + "): "
                    + r.output().strip());
        }
        return r.output();
    }

    /** A finished tool's exit code and combined output. */
    public record Result(int exitCode, String output) {
        public String firstLine() {
            String s = output.strip();
            int nl = s.indexOf('\n');
            return nl < 0 ? s : s.substring(0, nl);
        }
    }

    /** Runs {@code cmd} for tools whose exit code is the answer (iptables -C); only a start failure or the deadline throw. */
    public static Result attempt(byte[] stdin, String... cmd) throws IOException {
        return attempt(DEADLINE, Map.of(), stdin, cmd);
    }

    public static Result attempt(Duration deadline, Map<String, String> environment, byte[] stdin, String... cmd)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process p;
        try {
            p = builder.start();
        } catch (IOException e) {
            // The JVM says "Cannot run program ... error=2": name the package that gives it instead.
            throw HostPackages.isMissing(cmd[0]) ? new IOException(HostPackages.notFound(cmd[0]), e) : e;
        }
        // Output is read on its own thread, so the deadline holds however the tool behaves; it is
        // kept in memory only (wg's output holds keys).
        Output out = new Output(p.getInputStream(), cmd[0]);
        // Input too goes on its own thread: a tool that never reads it must not block us past the deadline.
        Thread feeder = new Thread(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // the tool exited without reading its input; its exit code and output tell why
            }
        }, "input of " + cmd[0]);
        feeder.setDaemon(true);
        feeder.start();
        try {
            if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                // Not its output: that may hold keys (wg), and this message is logged.
                throw new IOException(String.join(" ", List.of(cmd)) + " did not finish in " + deadline.toSeconds() + " s");
            }
            out.reader.join(DRAIN.toMillis());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd[0], e);
        }
        return new Result(p.exitValue(), out.text());
    }

    /** A tool's combined output, copied by a daemon thread until the pipe closes. */
    private static final class Output {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread reader;

        Output(InputStream from, String tool) {
            reader = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (from) {
                    for (int n; (n = from.read(buffer)) >= 0; ) {
                        synchronized (bytes) {
                            bytes.write(buffer, 0, n);
                        }
                    }
                } catch (IOException ignored) {
                    // the process was killed; what was read is kept
                }
            }, "output of " + tool);
            reader.setDaemon(true);
            reader.start();
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
