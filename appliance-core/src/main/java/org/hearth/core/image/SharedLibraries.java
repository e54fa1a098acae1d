package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The host libraries a set of ELF files links against, as {@code ldd} resolves them. Reading
 * ldd rather than listing libraries keeps the from-scratch Java image free of any assumption
 * about the machine's architecture or library paths.
 */
final class SharedLibraries {

    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    private static final Pattern RESOLVED = Pattern.compile("=>\\s+(/\\S+)\\s+\\(0x");
    private static final Pattern LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(0x");

    private SharedLibraries() {
    }

    /** Absolute paths of every library the ELF files under {@code tree} need from outside it. */
    static Set<Path> neededBy(Path tree) throws IOException, InterruptedException {
        List<Path> elves;
        try (Stream<Path> walk = Files.walk(tree)) {
            elves = walk.filter(Files::isRegularFile).filter(SharedLibraries::isElf).toList();
        }
        Set<Path> needed = new TreeSet<>();
        for (Path elf : elves) {
            Process ldd = new ProcessBuilder("ldd", elf.toString()).redirectErrorStream(true).start();
            String out = new String(ldd.getInputStream().readAllBytes());
            ldd.waitFor();
            needed.addAll(parse(out));
        }
        Path root = tree.toAbsolutePath().normalize();
        needed.removeIf(p -> p.normalize().startsWith(root));
        return needed;
    }

    /** Library paths in one ldd report; unresolved ("not found") entries are left out. */
    static Set<Path> parse(String lddOutput) {
        Set<Path> paths = new TreeSet<>();
        for (String line : lddOutput.split("\n")) {
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
        return paths;
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
