package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The libraries a set of ELF files links against, as {@code ldd} resolves them. Reading
 * ldd rather than listing libraries keeps the from-scratch Java image free of any assumption
 * about the machine's architecture or library paths.
 */
final class SharedLibraries {

    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    private static final Pattern RESOLVED = Pattern.compile("=>\\s+(/\\S+)\\s+\\(0x");
    // "libjvm.so => not found"
    private static final Pattern NOT_FOUND = Pattern.compile("^\\s*(\\S+)\\s+=>\\s+not found");
    private static final Pattern LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(0x");

    private SharedLibraries() {
    }

    /**
     * Every library the ELF files under {@code tree} need from outside it, as paths inside {@code root}
     * (this machine's own, or another architecture's run under qemu-user). A library ldd cannot find
     * fails the build here, naming the binary and the library: left out, the image would build and
     * then fail at container start. One that ldd misses but the tree holds (libjvm.so, which the
     * launcher loads by path) is the tree's own.
     */
    static Set<Path> neededBy(Path tree, JdkRoot root) throws IOException {
        List<Path> elves;
        Set<String> inTree = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(tree)) {
            List<Path> files = walk.filter(Files::isRegularFile).toList();
            files.forEach(f -> inTree.add(f.getFileName().toString()));
            elves = files.stream().filter(SharedLibraries::isElf).toList();
        }
        if (elves.isEmpty()) {
            return Set.of();
        }
        // One shell for every file: under emulation each process start is costly.
        List<String> argv = new ArrayList<>(List.of("sh", "-c",
                "for f; do printf '" + SECTION + "%s\\n' \"$f\"; ldd \"$f\" 2>&1; done; exit 0", "ldd-each"));
        elves.forEach(elf -> argv.add(root.inside(elf).toString()));
        Set<Path> needed = new TreeSet<>();
        for (Map.Entry<String, String> section : sections(root.output(argv)).entrySet()) {
            Report report = parse(section.getValue());
            List<String> missing = report.missing().stream().filter(lib -> !inTree.contains(lib)).toList();
            if (!missing.isEmpty()) {
                throw new ImageBuildException(section.getKey() + " needs " + String.join(", ", missing)
                        + ", which ldd cannot find (install the package that provides it)");
            }
            needed.addAll(report.resolved());
        }
        Path inside = root.inside(tree.toAbsolutePath().normalize());
        needed.removeIf(p -> p.normalize().startsWith(inside));
        return needed;
    }

    private static final String SECTION = "@@hearth-ldd@@ ";

    /** ldd's report per file, from the output of {@link #neededBy}'s loop. */
    private static Map<String, String> sections(String output) {
        Map<String, String> sections = new LinkedHashMap<>();
        String file = null;
        StringBuilder body = new StringBuilder();
        for (String line : (output + "\n" + SECTION).split("\n")) {
            if (line.startsWith(SECTION)) {
                if (file != null) {
                    sections.put(file, body.toString());
                }
                file = line.substring(SECTION.length());
                body.setLength(0);
            } else {
                body.append(line).append('\n');
            }
        }
        return sections;
    }

    /** One ldd report: the libraries it resolved (with the loader) and the names it could not find. */
    record Report(Set<Path> resolved, List<String> missing) {
    }

    static Report parse(String lddOutput) {
        Set<Path> paths = new TreeSet<>();
        List<String> missing = new ArrayList<>();
        for (String line : lddOutput.split("\n")) {
            Matcher notFound = NOT_FOUND.matcher(line);
            if (notFound.find()) {
                missing.add(notFound.group(1));
                continue;
            }
            Matcher m = RESOLVED.matcher(line);
            if (m.find()) {
                paths.add(Path.of(m.group(1)));
                continue;
            }
            m = LOADER.matcher(line);
            if (m.find()) {
                paths.add(Path.of(m.group(1)));
            }
        }
        return new Report(paths, missing);
    }

    private static boolean isElf(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }
}
