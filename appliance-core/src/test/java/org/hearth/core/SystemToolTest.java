package org.hearth.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real processes (sh, cat, sleep): what the supervisor relies on when a host tool misbehaves. */
class SystemToolTest {

    @Test
    void returnsTheOutputAndFeedsStdinAndTheEnvironment() throws Exception {
        assertThat(SystemTool.run("secret\n".getBytes(StandardCharsets.UTF_8), "cat")).isEqualTo("secret\n");
        assertThat(SystemTool.run(Map.of("HEARTH_T", "set"), new byte[0], "sh", "-c", "echo $HEARTH_T >&2"))
                .as("stderr is part of the output").isEqualTo("set\n");
    }

    @Test
    void aFailingToolIsAnErrorNamingTheCommandItsExitCodeAndOutput() {
        assertThatThrownBy(() -> SystemTool.run("sh", "-c", "echo no such device; exit 3"))
                .hasMessage("sh -c echo no such device; exit 3 failed (exit 3): no such device");
    }

    @Test
    void anAttemptReturnsAFailingExitCodeAsTheAnswer() throws Exception {
        SystemTool.Result r = SystemTool.attempt(new byte[0], "sh", "-c", "echo no chain; echo by that name; exit 1");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.firstLine()).isEqualTo("no chain");
    }

    @Test
    void aHungToolIsKilledAtItsDeadline() {
        Instant start = Instant.now();
        assertThatThrownBy(() -> SystemTool.attempt(Duration.ofSeconds(1), Map.of(), new byte[0],
                "sh", "-c", "echo waiting; exec sleep 300"))
                .hasMessage("sh -c echo waiting; exec sleep 300 did not finish in 1 s");
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aToolThatNeverReadsALargeInputStillMeetsItsDeadline() {
        Instant start = Instant.now();
        assertThatThrownBy(() -> SystemTool.attempt(Duration.ofSeconds(1), Map.of(), new byte[1 << 20], "sleep", "300"))
                .hasMessage("sleep 300 did not finish in 1 s");
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aToolThatLeavesAChildHoldingItsOutputStillReturns() throws Exception {
        // As a daemonizing tool does: it exits, and a child it started keeps the pipe open.
        Instant start = Instant.now();
        String out = SystemTool.run("sh", "-c", "sleep 20 & echo started");
        assertThat(out).isEqualTo("started\n");
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingProgramIsNamedWithThePackageThatGivesIt() {
        assertThat(HostPackages.notFound("debootstrap"))
                .isEqualTo("debootstrap not found: apt-get install debootstrap (scripts/install-packages run installs every program Hearth runs)");
        assertThatThrownBy(() -> SystemTool.run("/nonexistent/bin/wg", "show"))
                .isInstanceOf(IOException.class).hasMessageStartingWith("/nonexistent/bin/wg not found: apt-get install wireguard-tools");
        assertThatThrownBy(() -> SystemTool.run("hearth-no-such-tool"))
                .isInstanceOf(IOException.class).hasMessage("hearth-no-such-tool not found on this machine");
    }

    @Test
    void aStreamedToolHandsOverEachLineAsItComesAndReturnsItsExitCode() throws Exception {
        java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        int code = SystemTool.stream(Duration.ofSeconds(10), java.util.List.of("sh", "-c", "echo one; echo two >&2; exit 4"),
                lines::add);

        assertThat(code).isEqualTo(4);
        assertThat(lines).containsExactly("one", "two");
    }

    @Test
    void aMissingProgramNamesThePackageThatGivesIt() {
        assertThatThrownBy(() -> SystemTool.stream(Duration.ofSeconds(10), java.util.List.of("debootstrap-not-here"), l -> { }))
                .hasMessageStartingWith("debootstrap-not-here not found");
    }

    @Test
    void aToolThatLeavesADaemonHoldingItsOutputReturnsWhenItExits() throws Exception {
        Instant start = Instant.now();
        SystemTool.runDetaching(Duration.ofSeconds(10), Map.of(), "sh", "-c", "sleep 5 & echo started");

        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(4));
        assertThatThrownBy(() -> SystemTool.runDetaching(Duration.ofSeconds(10), Map.of(), "sh", "-c", "echo no tun; exit 1"))
                .hasMessage("sh -c echo no tun; exit 1 failed (exit 1): no tun");
    }
}
