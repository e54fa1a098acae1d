package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.SystemTool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The steps of one image's build, each named: a failure says which image, which step and which
 * recipe; the tools it runs log to {@code logs/image-build.log} and show their phases as progress.
 */
final class BuildSteps {

    /** debootstrap of a base on a slow SD card and link is minutes; a tool stuck for this long is stuck. */
    private static final Duration TOOL_DEADLINE = Duration.ofMinutes(30);

    final HearthHome home;
    final BuildTools tools;
    private final Consumer<String> progress;
    /** e.g. {@code [2/6] hearth/java-base}: every message of this build starts with it. */
    final String step;
    /** The recipe file a failure names, for the user to look at. */
    private final Path recipeFile;

    BuildSteps(HearthHome home, BuildTools tools, Consumer<String> progress, String step, Path recipeFile) {
        this.home = home;
        this.tools = tools;
        this.progress = progress;
        this.step = step;
        this.recipeFile = recipeFile;
    }

    /** One step's I/O, so that a failure can name the step. */
    interface Stage {
        void run() throws IOException;
    }

    void progress(String message) {
        progress.accept(step + ": " + message);
    }

    /** Runs one named step; any failure becomes an {@link ImageBuildException} naming the image, the step and the recipe. */
    void stage(String doing, Stage work) {
        try {
            work.run();
        } catch (ImageBuildException e) {
            // Helpers that know no step (a missing program, a library ldd cannot find) get it here.
            if (e.getMessage() != null && e.getMessage().startsWith(step)) {
                throw e;
            }
            throw new ImageBuildException(step + ": " + e.getMessage(), e);
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            String what = e instanceof UncheckedIOException u && u.getMessage() != null
                    && !u.getMessage().equals(String.valueOf(io)) ? u.getMessage() + ": " + describe(io) : describe(io);
            throw new ImageBuildException(step + ": " + doing + " failed (recipe "
                    + recipeFile + "): " + what, e);
        }
    }

    /** Runs a build tool; its output goes to a log under the state folder and, filtered by {@code phase}, to progress. */
    void run(List<String> cmd, Function<String, Optional<String>> phase) throws IOException {
        Path log = home.stateDir("logs").resolve("image-build.log");
        List<String> located = new ArrayList<>(cmd);
        located.set(0, locate(cmd.get(0)));
        Deque<String> tail = new ArrayDeque<>();
        Set<String> shown = new HashSet<>();
        int code;
        try (var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write("$ " + String.join(" ", cmd) + "\n");
            code = SystemTool.stream(TOOL_DEADLINE, located, line -> {
                try {
                    out.write(line + "\n");
                } catch (IOException e) {
                    // The log is only a copy: the tail below still tells what failed.
                }
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > 15) {
                        tail.removeFirst();
                    }
                }
                phase.apply(line).filter(shown::add).ifPresent(name -> progress("  " + name + " ..."));
            });
        }
        if (code != 0) {
            synchronized (tail) {
                throw new ImageBuildException(step + ": " + cmd.get(0) + " exited with " + code
                        + " (full log: " + log + ")" + lastLines(List.copyOf(tail)));
            }
        }
    }

    String locate(String program) {
        try {
            return tools.locate(program);
        } catch (ImageBuildException e) {
            throw new ImageBuildException(step + ": " + e.getMessage(), e);
        }
    }

    static String lastLines(List<String> lines) {
        int from = Math.max(0, lines.size() - 10);
        return lines.isEmpty() ? "" : "\n  " + String.join("\n  ", lines.subList(from, lines.size()));
    }

    /** What went wrong with a file, in words: Java's file exceptions carry only the path as their message. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + ": already exists";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
