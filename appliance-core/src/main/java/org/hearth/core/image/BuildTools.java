package org.hearth.core.image;

import org.hearth.core.HostPackages;
import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the host programs an image build runs, so a missing one is named with the package that
 * provides it, rather than surfacing as the JVM's "Cannot run program" somewhere in the build.
 */
final class BuildTools {

    private final String searchPath;

    /** @param searchPath a PATH-style list of folders, searched in order */
    BuildTools(String searchPath) {
        this.searchPath = searchPath;
    }

    static BuildTools fromEnvironment() {
        return new BuildTools(Optional.ofNullable(System.getenv("PATH")).orElse("/usr/sbin:/usr/bin:/sbin:/bin"));
    }

    /** The program's absolute path; an {@link ImageBuildException} naming the package to install if it is absent. */
    String locate(String program) {
        if (program.contains("/")) {
            return program;
        }
        for (String dir : searchPath.split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath().toString();
            }
        }
        throw new ImageBuildException(HostPackages.notFound(program));
    }

    /** This machine's Debian architecture (amd64, arm64, ...). */
    String hostArchitecture() throws IOException {
        SystemTool.Result r = SystemTool.attempt(Duration.ofSeconds(30), Map.of(), new byte[0],
                locate("dpkg"), "--print-architecture");
        if (r.exitCode() != 0) {
            throw new ImageBuildException("dpkg --print-architecture exited with " + r.exitCode() + ": " + r.firstLine());
        }
        String arch = r.output().strip();
        return arch.isEmpty() ? System.getProperty("os.arch") : arch;
    }
}
