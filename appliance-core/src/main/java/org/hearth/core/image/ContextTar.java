package org.hearth.core.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A build context streamed to the engine through {@code tar -cf -}: the context can be large, so
 * it is never held in memory, and tar's exit code and stderr are checked once the engine is done,
 * so a context tar could not read is reported as such, not as a half-built image.
 */
final class ContextTar implements AutoCloseable {

    private final Process tar;
    private final Path errors;
    private final Path context;

    private ContextTar(Process tar, Path errors, Path context) {
        this.tar = tar;
        this.errors = errors;
        this.context = context;
    }

    /** @param errors where tar's stderr goes: a file outside {@code context} */
    static ContextTar start(String tarProgram, Path context, Path errors) throws IOException {
        // Not SystemTool: tar's output is no text for us but the engine's input, read while tar runs.
        Process tar = new ProcessBuilder(tarProgram, "-C", context.toString(), "-cf", "-", ".")
                .redirectError(errors.toFile()).start();
        return new ContextTar(tar, errors, context);
    }

    InputStream stream() {
        return tar.getInputStream();
    }

    /**
     * Waits for tar after the engine has read what it wanted; a failure names the context and
     * carries tar's stderr. An engine that stopped reading early kills tar with SIGPIPE, which says
     * nothing on stderr: that is the engine's failure, reported by the caller, so it returns quietly
     * unless {@code streamComplete}.
     */
    void finish(boolean streamComplete) throws IOException {
        tar.getInputStream().close();
        boolean exited;
        try {
            exited = tar.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            tar.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ImageBuildException("interrupted while waiting for tar of " + context);
        }
        if (!exited) {
            tar.destroyForcibly();
            throw new ImageBuildException("tar of the build context " + context + " did not finish in 30 s");
        }
        String stderr = Files.exists(errors) ? Files.readString(errors, StandardCharsets.UTF_8).strip() : "";
        if (tar.exitValue() != 0 && (streamComplete || !stderr.isEmpty())) {
            throw new ImageBuildException("tar of the build context " + context + " exited with " + tar.exitValue()
                    + (stderr.isEmpty() ? "" : ": " + stderr));
        }
    }

    @Override
    public void close() {
        tar.destroy();
    }
}
