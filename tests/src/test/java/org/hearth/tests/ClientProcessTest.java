package org.hearth.tests;

import org.junit.jupiter.api.Test;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client runner's deadlines hold: a hung client, a child holding the output open, a ready line that never comes. */
class ClientProcessTest {
    @Test
    void aHungClientIsKilledAtItsDeadlineAndTheFailureShowsItsPartialOutput() {
        Instant t0 = Instant.now();
        assertThatThrownBy(() -> ClientProcess.run(List.of("bash", "-c", "echo partial; echo err >&2; sleep 60"), Duration.ofSeconds(2)))
                .hasMessageContaining("bash -c").hasMessageContaining("did not finish within").hasMessageContaining("partial")
                .hasMessageContaining("err");
        assertThat(Duration.between(t0, Instant.now())).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void aChildHoldingTheOutputOpenDoesNotDelayTheResult() {
        Instant t0 = Instant.now();
        ClientProcess.Result r = ClientProcess.run(List.of("bash", "-c", "(sleep 60 &) ; echo done"), Duration.ofSeconds(10));
        assertThat(r.stdout()).isEqualTo("done\n");
        assertThat(Duration.between(t0, Instant.now())).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void waitsForTheReadyLineTheClientPrints() {
        ClientProcess c = ClientProcess.start(List.of("bash", "-c", "sleep 1; echo idling >&2; sleep 1; echo '{}'"));
        Instant t0 = Instant.now();
        c.awaitStderrLine("idling", Duration.ofSeconds(10));
        assertThat(Duration.between(t0, Instant.now())).isGreaterThan(Duration.ofMillis(800));
        assertThat(c.finish(Duration.ofSeconds(10)).stdout()).isEqualTo("{}\n");
    }

    @Test
    void aReadyLineThatNeverComesFailsAtTheDeadlineOrWhenTheClientExits() {
        ClientProcess c = ClientProcess.start(List.of("bash", "-c", "sleep 60"));
        assertThatThrownBy(() -> c.awaitStderrLine("idling", Duration.ofSeconds(1))).hasMessageContaining("did not print");
        ClientProcess d = ClientProcess.start(List.of("bash", "-c", "echo oops >&2; exit 3"));
        assertThatThrownBy(() -> d.awaitStderrLine("idling", Duration.ofSeconds(10))).hasMessageContaining("exited 3").hasMessageContaining("oops");
    }
}
