package org.hearth.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every program Hearth's code starts must come from a package in {@code scripts/host-packages}, which
 * the launcher, the demo and scripts/test install from: otherwise a fresh machine fails at the first
 * call (as {@code hearth demo} once did for debootstrap). FreshHostTest proves the list on bare Debian.
 */
class HostProgramsTest {

    private static final Path HOME = Path.of(System.getProperty(HearthHome.HOME_PROPERTY, "..")).toAbsolutePath().normalize();

    /** A literal program name where the code starts a process (a byte[] or key argument may come first). */
    private static final Pattern MAIN_START = Pattern.compile(
            "(?:new ProcessBuilder|SystemTool\\.(?:run|attempt|stream|runDetaching)|HostCommand\\.(?:run|onPath)|quietly|startDaemon|locate|(?<![.\\w])run\\(List\\.of|steps\\.run\\(List\\.of"
                    + "|cmd = new ArrayList<>\\(List\\.of|cmd = List\\.of)"
                    + "\\((?:(?:[^\"();]|\\([^()]*\\))*,\\s*)?\"([a-z][a-z0-9._+-]*)\"");
    /** Tests start programs too (swaks, python3, zbarimg); their helpers name hearth commands with run(...), so only these. */
    private static final Pattern TEST_START = Pattern.compile(
            "(?:new ProcessBuilder|SystemTool\\.(?:run|attempt)|ClientProcess\\.(?:run|start)\\(List\\.of|cmd\\.addAll\\(List\\.of"
                    + "|new (?:java\\.util\\.)?ArrayList<>\\(List\\.of|start(?:Listening)?\\([^;()]*,\\s*List\\.of)"
                    + "\\(\"([a-z][a-z0-9._+-]*)\",");

    @Test
    void everyProgramTheCodeStartsHasItsPackageListed() {
        Map<String, String> declared = declaredPrograms();
        Map<String, Set<String>> started = started(MAIN_START, "src/main/java");
        // The scan must see the calls it is meant to police, or it would pass by finding nothing.
        assertThat(started).containsKeys(
                "debootstrap", "cryptsetup", "ip", "wg", "iptables", "mkfs.ext4", "losetup", "tar", "dpkg", "setsid",
                "mkfs.vfat", "sfdisk", "update-binfmts", "systemctl");
        assertThat(undeclared(started, declared)).as("programs started but missing from scripts/host-packages "
                + "(add PACKAGE GROUP PROGRAM there)").isEmpty();
    }

    @Test
    void everyProgramTheTestsStartHasItsPackageListed() {
        Map<String, Set<String>> started = started(TEST_START, "src/test/java");
        assertThat(started).containsKeys("swaks", "python3", "zbarimg", "docker", "knotd", "opendmarc", "dkimpy-milter");
        assertThat(undeclared(started, declaredPrograms())).as("programs the tests start but missing from scripts/host-packages")
                .isEmpty();
    }

    @Test
    void everyCommandTheReadmeAndTheDemoSuggestRunsOnWhatTheDemoInstalls() throws IOException {
        Map<String, String> declared = declaredPrograms();
        Set<String> groupsOfDemo = Set.of("build", "run");
        Set<String> suggested = new TreeSet<>();
        boolean inBlock = false;
        for (String line : Files.readAllLines(HOME.resolve("README.md"))) {
            if (line.startsWith("```")) {
                inBlock = !inBlock;
            } else if (inBlock && !line.isBlank()) {
                suggested.add(line.strip().split("\\s+")[0]);
            }
        }
        // The demo's "Try it" lines: System.out.println("  PROGRAM ...
        Matcher tryIt = Pattern.compile("println\\(\"  ([a-z][a-z0-9._+-]*) --").matcher(
                Files.readString(HOME.resolve("appliance-core/src/main/java/org/hearth/core/cli/DemoCommand.java")));
        while (tryIt.find()) {
            suggested.add(tryIt.group(1));
        }
        assertThat(suggested).contains("./hearth", "swaks");
        Map<String, String> groups = packageGroups();
        for (String command : suggested) {
            if (command.startsWith("./") || command.startsWith("scripts/")) {
                assertThat(HOME.resolve(command)).as(command).isExecutable();
            } else {
                assertThat(declared).as("README or demo suggests " + command).containsKey(command);
                assertThat(groups.get(declared.get(command))).as(command + " is installed by the demo").isIn(groupsOfDemo);
            }
        }
    }

    @Test
    void theScanFindsAnUndeclaredProgram() {
        Map<String, Set<String>> started = new TreeMap<>();
        scan("SystemTool.run(key.getBytes(UTF_8), \"frobnicate\", \"--now\");", MAIN_START, "Example.java", started);
        scan("List<String> cmd = new ArrayList<>(List.of(\"debootstrap\", \"--variant=\" + v));", MAIN_START, "Other.java", started);
        assertThat(undeclared(started, declaredPrograms())).containsOnlyKeys("frobnicate");
    }

    /** Program name to package, from scripts/host-packages. */
    static Map<String, String> declaredPrograms() {
        Map<String, String> programs = new TreeMap<>();
        try {
            for (String line : Files.readAllLines(HOME.resolve("scripts/host-packages"))) {
                String[] words = line.strip().split("\\s+");
                if (words[0].isEmpty() || words[0].startsWith("#")) {
                    continue;
                }
                assertThat(words.length).as("scripts/host-packages: " + line + ": PACKAGE GROUP PROGRAM...").isGreaterThanOrEqualTo(3);
                assertThat(words[1]).as("scripts/host-packages: " + line + ": group").isIn("build", "run", "image", "podman", "test");
                for (int i = 2; i < words.length; i++) {
                    programs.put(words[i], words[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return programs;
    }

    /** Package to its group. */
    private static Map<String, String> packageGroups() throws IOException {
        Map<String, String> groups = new TreeMap<>();
        for (String line : Files.readAllLines(HOME.resolve("scripts/host-packages"))) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && !words[0].startsWith("#")) {
                groups.put(words[0], words[1]);
            }
        }
        return groups;
    }

    private static Map<String, Set<String>> undeclared(Map<String, Set<String>> started, Map<String, String> declared) {
        Map<String, Set<String>> missing = new TreeMap<>(started);
        missing.keySet().removeAll(declared.keySet());
        return missing;
    }

    /** Program to the files that start it, over every module's sources below {@code sourceRoot}. */
    private static Map<String, Set<String>> started(Pattern pattern, String sourceRoot) {
        Map<String, Set<String>> started = new TreeMap<>();
        try (Stream<Path> modules = Files.list(HOME)) {
            for (Path module : modules.filter(m -> Files.isDirectory(m.resolve(sourceRoot))).toList()) {
                try (Stream<Path> files = Files.walk(module.resolve(sourceRoot))) {
                    for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                        scan(Files.readString(f), pattern, HOME.relativize(f).toString(), started);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return started;
    }

    private static void scan(String source, Pattern pattern, String file, Map<String, Set<String>> into) {
        Matcher m = pattern.matcher(source);
        while (m.find()) {
            into.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(file);
        }
    }
}
