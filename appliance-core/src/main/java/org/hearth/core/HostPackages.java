package org.hearth.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which Debian package gives each host program, read from {@code scripts/host-packages}: the list the
 * launcher, the demo and scripts/test install from. A program found missing is named with its package.
 */
public final class HostPackages {

    private static volatile Map<String, String> byProgram;

    private HostPackages() {
    }

    /** The package that gives {@code program}, if the list names it. */
    public static Optional<String> packageOf(String program) {
        Map<String, String> programs = byProgram;
        if (programs == null) {
            programs = read(HearthHome.fromSystemProperty().scripts().resolve("host-packages"));
            byProgram = programs;
        }
        return Optional.ofNullable(programs.get(program.substring(program.lastIndexOf('/') + 1)));
    }

    /** What to tell the user when {@code program} cannot be found. */
    public static String notFound(String program) {
        return program + " not found" + packageOf(program)
                .map(p -> ": apt-get install " + p + " (scripts/install-packages run installs every program Hearth runs)")
                .orElse(" on this machine");
    }

    /** Whether {@code program} is absent: no such file, or nothing by that name on PATH. */
    public static boolean isMissing(String program) {
        if (program.contains("/")) {
            return !Files.isExecutable(Path.of(program));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return false;
            }
        }
        return true;
    }

    static Map<String, String> read(Path list) {
        Map<String, String> programs = new HashMap<>();
        try {
            for (String line : Files.readAllLines(list)) {
                String[] words = line.strip().split("\\s+");
                if (words.length < 3 || words[0].startsWith("#")) {
                    continue;
                }
                for (int i = 2; i < words.length; i++) {
                    programs.put(words[i], words[0]);
                }
            }
        } catch (IOException e) {
            // An installation without its scripts folder: programs are still named, without a package.
            return Map.of();
        }
        return programs;
    }
}
