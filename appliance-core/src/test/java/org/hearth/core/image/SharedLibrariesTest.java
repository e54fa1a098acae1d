package org.hearth.core.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SharedLibrariesTest {

    @Test
    void takesResolvedLibrariesAndTheLoaderButNotVdsoAndListsMissingOnesApart() {
        String ldd = """
                \tlinux-vdso.so.1 (0x00007fd988cd6000)
                \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007fd988ca1000)
                \tlibjli.so => /opt/java/bin/../lib/libjli.so (0x00007fd988c91000)
                \tlibjvm.so => not found
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fd988aaf000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007fd988cd8000)
                """;

        SharedLibraries.Report report = SharedLibraries.parse(ldd);
        assertThat(report.resolved()).containsExactlyInAnyOrder(
                Path.of("/lib/x86_64-linux-gnu/libz.so.1"),
                Path.of("/opt/java/bin/../lib/libjli.so"),
                Path.of("/lib/x86_64-linux-gnu/libc.so.6"),
                Path.of("/lib64/ld-linux-x86-64.so.2"));
        assertThat(report.missing()).containsExactly("libjvm.so");
    }

    @Test
    void readsArm64LoaderToo() {
        String ldd = "\tlibc.so.6 => /lib/aarch64-linux-gnu/libc.so.6 (0x0000ffff8a2c0000)\n"
                + "\t/lib/ld-linux-aarch64.so.1 (0x0000ffff8a4a0000)\n";

        assertThat(SharedLibraries.parse(ldd).resolved()).containsExactlyInAnyOrder(
                Path.of("/lib/aarch64-linux-gnu/libc.so.6"), Path.of("/lib/ld-linux-aarch64.so.1"));
    }

    @Test
    void staticBinaryNeedsNothing() {
        assertThat(SharedLibraries.parse("\tnot a dynamic executable\n").resolved()).isEmpty();
        assertThat(SharedLibraries.parse("\tnot a dynamic executable\n").missing()).isEmpty();
    }

    @Test
    void aLibraryLddCannotFindFailsTheBuildNamingTheBinaryAndTheLibrary(@TempDir Path tree) throws Exception {
        // The real java launcher, copied alone: ldd cannot find its libjli.so, as with a broken jlink output.
        Path java = tree.resolve("bin/java");
        Files.createDirectories(java.getParent());
        Files.copy(Path.of(System.getProperty("java.home"), "bin", "java"), java);

        assertThatThrownBy(() -> SharedLibraries.neededBy(tree, JdkRoot.host()))
                .isInstanceOf(ImageBuildException.class)
                .hasMessage(java + " needs libjli.so, which ldd cannot find (install the package that provides it)");
    }

    @Test
    void aLibraryTheTreeHoldsItselfIsNotMissing() throws Exception {
        // The JDK's own lib folder: ldd reports libjvm.so "not found" for most of it, and lib/server holds it.
        Path lib = Path.of(System.getProperty("java.home"), "lib");

        assertThat(SharedLibraries.neededBy(lib, JdkRoot.host()))
                .isNotEmpty()
                .allSatisfy(p -> assertThat(p.normalize().startsWith(lib)).as("%s is outside the tree", p).isFalse());
    }
}
