package org.hearth.core.image;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SharedLibrariesTest {

    @Test
    void takesResolvedLibrariesAndTheLoaderButNotVdsoOrMissingOnes() {
        String ldd = """
                \tlinux-vdso.so.1 (0x00007fd988cd6000)
                \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007fd988ca1000)
                \tlibjli.so => /opt/java/bin/../lib/libjli.so (0x00007fd988c91000)
                \tlibjvm.so => not found
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fd988aaf000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007fd988cd8000)
                """;

        assertThat(SharedLibraries.parse(ldd)).containsExactlyInAnyOrder(
                Path.of("/lib/x86_64-linux-gnu/libz.so.1"),
                Path.of("/opt/java/bin/../lib/libjli.so"),
                Path.of("/lib/x86_64-linux-gnu/libc.so.6"),
                Path.of("/lib64/ld-linux-x86-64.so.2"));
    }

    @Test
    void readsArm64LoaderToo() {
        String ldd = "\tlibc.so.6 => /lib/aarch64-linux-gnu/libc.so.6 (0x0000ffff8a2c0000)\n"
                + "\t/lib/ld-linux-aarch64.so.1 (0x0000ffff8a4a0000)\n";

        assertThat(SharedLibraries.parse(ldd)).containsExactlyInAnyOrder(
                Path.of("/lib/aarch64-linux-gnu/libc.so.6"), Path.of("/lib/ld-linux-aarch64.so.1"));
    }

    @Test
    void staticBinaryNeedsNothing() {
        assertThat(SharedLibraries.parse("\tnot a dynamic executable\n")).isEmpty();
    }
}
