package org.hearth.core.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Every command that changes state is a request to the supervisor, and says so plainly when it does not run. */
class NeedsTheSupervisorTest {

    @TempDir
    Path state;

    @ParameterizedTest
    @ValueSource(strings = {"app remove mail", "lock", "volume grow mail mail 2GiB", "overlay device remove phone",
            "mail domain list", "mail alias add a@example.org b@example.org"})
    void aChangeWithoutARunningSupervisorSaysHowToStartIt(String command) throws Exception {
        // A socket file left by a supervisor that died must not make it look alive.
        Files.createFile(state.resolve("control.sock"));
        CommandLine cli = HearthCommand.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));

        int exit = cli.execute(("--state-dir " + state + " " + command).split(" "));

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("hearth: the supervisor is not running for " + state
                + " (start it: hearth up)" + System.lineSeparator());
    }
}
