package org.hearth.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The check of Podman's network resolver, against real processes' environments in /proc: a
 * resolver started without AARDVARK_NO_PROXY is refused; with it, or with none running, not.
 */
class AardvarkDnsTest {

    @TempDir
    Path config;

    @Test
    void aResolverThatPassesNamesOnIsRefusedByItsPid() throws Exception {
        Process forwarding = running(Map.of());
        try {
            Files.writeString(config.resolve("aardvark.pid"), forwarding.pid() + "\n");
            assertThatThrownBy(() -> new AardvarkDns(config, Path.of("/proc")).check())
                    .isInstanceOf(EngineException.class)
                    .hasMessageContaining("pid " + forwarding.pid())
                    .hasMessageContaining("AARDVARK_NO_PROXY=1");
        } finally {
            forwarding.destroy();
        }
    }

    @Test
    void aResolverStartedWithNoProxyPasses() throws Exception {
        Process answering = running(Map.of("AARDVARK_NO_PROXY", "1"));
        try {
            Files.writeString(config.resolve("aardvark.pid"), answering.pid() + "\n");
            AardvarkDns dns = new AardvarkDns(config, Path.of("/proc"));
            assertThatCode(dns::check).doesNotThrowAnyException();
        } finally {
            answering.destroy();
        }
    }

    @Test
    void aPidThatNamesAnotherProgramIsNoResolver() throws Exception {
        Files.writeString(config.resolve("aardvark.pid"), ProcessHandle.current().pid() + "\n");
        assertThatCode(() -> new AardvarkDns(config, Path.of("/proc")).check()).doesNotThrowAnyException();
    }

    @Test
    void noResolverRunningIsNothingToCheck() {
        assertThatCode(() -> new AardvarkDns(config, Path.of("/proc")).check()).doesNotThrowAnyException();
    }

    @Test
    void aPidFileWithoutAPidIsNamed() throws Exception {
        Files.writeString(config.resolve("aardvark.pid"), "soon");
        assertThatThrownBy(() -> new AardvarkDns(config, Path.of("/proc")).check())
                .hasMessageContaining("aardvark.pid holds \"soon\"");
    }

    /**
     * A process that lives until destroyed, with exactly {@code env} (and PATH) for its environment,
     * named as netavark's aardvark-dns is (bash's exec -a sets argv[0] only, so a copy of bash of that name).
     */
    private Process running(Map<String, String> env) throws Exception {
        Path named = config.resolve("aardvark-dns");
        Files.copy(Path.of("/bin/bash"), named);
        named.toFile().setExecutable(true);
        // bash waiting on its input (a pipe from this JVM), its environment the given one.
        ProcessBuilder pb = new ProcessBuilder(named.toString(), "-c", "read -r _");
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().putAll(env);
        return pb.start();
    }
}
