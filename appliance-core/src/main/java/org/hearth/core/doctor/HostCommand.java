package org.hearth.core.doctor;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A short host command for checks that can only be answered by trying; it never throws. */
final class HostCommand {

    private static final Duration DEADLINE = Duration.ofSeconds(20);

    private HostCommand() {
    }

    /** The tool's exit code and output, or exit code -1 with the reason it could not run or finish. */
    static SystemTool.Result run(String... cmd) {
        try {
            return SystemTool.attempt(DEADLINE, Map.of(), new byte[0], cmd);
        } catch (IOException e) {
            return new SystemTool.Result(-1, e.getMessage());
        }
    }

    /** Whether {@code tool} is an executable on PATH or in the system sbin folders root uses. */
    static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
