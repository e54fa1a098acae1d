package org.hearth.core.doctor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostDoctorTest {

    @Test
    void missingEngineBlocksHearthAndSaysHowToStartIt(@TempDir Path state) {
        List<HostCheck> checks = new HostDoctor("unix://" + state.resolve("no-engine.sock"), state).run();

        HostCheck engine = checks.stream().filter(c -> c.name().equals("engine")).findFirst().orElseThrow();
        assertThat(engine.ok()).isFalse();
        assertThat(engine.blocksHearth()).isTrue();
        assertThat(engine.fix()).hasValueSatisfying(f -> assertThat(f).contains("scripts/engine-up"));
    }

    @Test
    void aSocketThatNobodyListensOnShowsTheEnginesOwnErrorAndSaysDockerdIsNotRunning(@TempDir Path state)
            throws Exception {
        // A real stale socket, as a dockerd that died leaves behind: the file exists, connect is refused.
        Path socket = state.resolve("docker.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();

        HostCheck engine = new HostDoctor("unix://" + socket, state).run().get(0);

        assertThat(engine.name()).isEqualTo("engine");
        assertThat(engine.detail()).startsWith("no engine answers at unix://" + socket + ": ")
                .containsIgnoringCase("connection refused");
        assertThat(engine.fix()).hasValueSatisfying(f -> assertThat(f)
                .contains("exists but dockerd is not listening on it").doesNotContain("installs"));
    }

    @Test
    void aPermissionDeniedSocketSuggestsTheGroupRatherThanInstallingTheEngine() {
        // Built from the error docker-java's socket reports: these tests run as root, which no file mode refuses.
        HostCheck engine = HostDoctor.engineProblem("unix:///var/run/docker.sock",
                new java.net.SocketException("Permission denied"));

        assertThat(engine.detail()).isEqualTo("no engine answers at unix:///var/run/docker.sock: Permission denied");
        assertThat(engine.fix()).hasValueSatisfying(f -> assertThat(f)
                .contains("usermod -aG docker").doesNotContain("docker.io"));
    }

    @Test
    void reportsEveryCheckOnceWithAFixForEachMissingOne(@TempDir Path state) {
        List<HostCheck> checks = new HostDoctor("unix://" + state.resolve("no-engine.sock"), state).run();

        assertThat(checks).extracting(HostCheck::name).containsExactly("engine", "iptables", "device-mapper",
                "ext4-encryption", "encrypted-storage", "tun", "netns", "image-tools", "disk", "memory", "board", "clock");
        assertThat(checks).filteredOn(c -> !c.ok()).allSatisfy(c -> assertThat(c.fix()).isPresent());
        assertThat(checks).filteredOn(HostCheck::ok).allSatisfy(c -> assertThat(c.fix()).isEmpty());
    }

    @Test
    void theBoardIsNamedByTheMachinesFirmwareAndItsArchitecture(@TempDir Path state) {
        HostCheck board = new HostDoctor("unix://" + state.resolve("no-engine.sock"), state).run().stream()
                .filter(c -> c.name().equals("board")).findFirst().orElseThrow();
        // This VM has neither a device tree nor DMI; the Pi's model, from its device tree, SdCardBootTest reads.
        assertThat(board.detail()).matches(".+ \\((amd64|x86_64|aarch64), \\d+ cores\\)");
        assertThat(board.ok()).isTrue();
    }

    @Test
    void memoryIsReadFromTheKernel() {
        assertThat(HostDoctor.memTotal()).isGreaterThan(100L << 20);
    }
}
