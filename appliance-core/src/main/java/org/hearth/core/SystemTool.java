package org.hearth.core;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The one way Hearth runs a host program (mkfs, cryptsetup, ip, wg, debootstrap, the scripts): a
 * failure is an IOException naming the command and its output, a missing program names the Debian
 * package that gives it. A tool that hangs is killed at its deadline, so a stuck {@code ip} or
 * {@code wg} cannot stall the supervisor's pass for ever. Long output is streamed line by line
 * ({@link #stream}); a tool that leaves a daemon behind writes to a file ({@link #runDetaching}).
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
        Process p = start(builder, cmd);
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
        return new Result(await(p, out.reader, deadline, cmd), out.text());
    }

    /**
     * Runs a tool whose output is long (debootstrap, apt, a build): each line of its combined output
     * goes to {@code eachLine} as it comes, nothing is kept. Returns its exit code; killed at the deadline.
     */
    public static int stream(Duration deadline, List<String> cmd, Consumer<String> eachLine) throws IOException {
        String[] argv = cmd.toArray(String[]::new);
        Process p = start(new ProcessBuilder(argv).redirectErrorStream(true), argv);
        p.getOutputStream().close();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    eachLine.accept(line);
                }
            } catch (IOException ignored) {
                // the process was killed; what was read was passed on
            }
        }, "output of " + argv[0]);
        reader.setDaemon(true);
        reader.start();
        return await(p, reader, deadline, argv);
    }

    /**
     * Runs a tool that starts a daemon and exits (wireguard-go): the daemon keeps the tool's output
     * open, so it goes to a file rather than a pipe nobody would ever see closed.
     */
    public static void runDetaching(Duration deadline, Map<String, String> environment, String... cmd) throws IOException {
        Path out = Files.createTempFile("hearth-" + Path.of(cmd[0]).getFileName(), ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            builder.environment().putAll(environment);
            Process p = start(builder, cmd);
            p.getOutputStream().close();
            int code = await(p, null, deadline, cmd);
            if (code != 0) {
                throw new IOException(String.join(" ", cmd) + " failed (exit " + code + "): "
                        + Files.readString(out, StandardCharsets.UTF_8).strip());
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Process start(ProcessBuilder builder, String... cmd) throws IOException {
        try {
            return builder.start();
        } catch (IOException e) {
            // The JVM says "Cannot run program ... error=2": name the package that gives it instead.
            throw HostPackages.isMissing(cmd[0]) ? new IOException(HostPackages.notFound(cmd[0]), e) : e;
        }
    }

    private static int await(Process p, Thread reader, Duration deadline, String... cmd) throws IOException {
        try {
            if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                // Not its output: that may hold keys (wg), and this message is logged.
                throw new IOException(String.join(" ", List.of(cmd)) + " did not finish in " + deadline.toSeconds() + " s");
            }
            if (reader != null) {
                reader.join(DRAIN.toMillis());
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd[0], e);
        }
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
