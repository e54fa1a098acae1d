package org.hearth.tests;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A newcomer's bare Debian 12 (no Java, no Maven) gets everything Hearth starts from its own install
 * steps: {@code tests/fresh-host/check} bootstraps one, runs {@code ./hearth --help}, the demo's install
 * step and {@code hearth image sd}'s inside it, and names every build, run or image program still missing. Slow (a debootstrap, a JDK install
 * and a full build): its own group.
 */
@Tag("fresh-host")
class FreshHostTest {

    private static final Path HOME = Path.of(System.getProperty("hearth.home", "..")).toAbsolutePath().normalize();

    @Test
    void aBareDebianGetsEveryProgramHearthStartsFromTheLauncherAndTheDemo() throws Exception {
        Path work = HOME.resolve(".state/test-runs/fresh-host-" + UUID.randomUUID().toString().substring(0, 8));
        Path log = Files.createDirectories(work).resolve("check.log");
        try {
            Process check = new ProcessBuilder("bash", HOME.resolve("tests/fresh-host/check").toString(), work.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = check.waitFor(25, TimeUnit.MINUTES);
            if (!finished) {
                check.descendants().forEach(ProcessHandle::destroyForcibly);
                check.destroyForcibly();
            }
            String output = Files.readString(log);
            System.out.print(output);
            assertThat(finished).as("tests/fresh-host/check finished in 25 minutes; output:\n" + output).isTrue();
            assertThat(output).doesNotContain("missing: ");
            assertThat(check.exitValue()).as("exit code; output:\n" + output).isZero();
            assertThat(output).contains("every build, run and image program is present");
        } finally {
            removeUnlessMounted(work);
        }
    }

    /** The check's mounts live in its own namespace; should one have leaked, leave the folder rather than walk into it. */
    private static void removeUnlessMounted(Path work) throws IOException {
        if (Files.readString(Path.of("/proc/self/mountinfo")).contains(work.toString())) {
            System.out.println("fresh-host: " + work + " still has mounts; left in place");
            return;
        }
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
