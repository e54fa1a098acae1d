package org.hearth.core.cli;

import org.hearth.core.supervisor.SupervisorStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** When hearth app install stops waiting and says why, from the app entries status.json holds. */
class LastingFailureTest {

    private static Optional<SupervisorStatus.App> app(SupervisorStatus.AppState state, Optional<String> problem) {
        return Optional.of(new SupervisorStatus.App("mail", "1.0.0", state, problem, List.of(), List.of()));
    }

    @Test
    void aFailureSeenInThreePassesIsReportedWithItsReason() {
        AppCommand.LastingFailure failure = new AppCommand.LastingFailure();
        Optional<SupervisorStatus.App> failing = app(SupervisorStatus.AppState.FAILING, Optional.of("step services (container imap) failed: engine error"));

        assertThat(failure.seen("t1", failing)).isEmpty();
        assertThat(failure.seen("t1", failing)).as("the same status file read again is the same pass").isEmpty();
        assertThat(failure.seen("t2", failing)).isEmpty();
        assertThat(failure.seen("t3", failing)).hasValue("step services (container imap) failed: engine error");
    }

    @Test
    void aFailureTheNextPassRepairsOrAStartingAppIsWaitedThrough() {
        AppCommand.LastingFailure failure = new AppCommand.LastingFailure();

        assertThat(failure.seen("t1", app(SupervisorStatus.AppState.FAILING, Optional.of("step networks failed: busy")))).isEmpty();
        assertThat(failure.seen("t2", app(SupervisorStatus.AppState.STARTING, Optional.empty()))).isEmpty();
        assertThat(failure.seen("t3", app(SupervisorStatus.AppState.FAILING, Optional.of("step networks failed: busy")))).isEmpty();
        assertThat(failure.seen("t4", app(SupervisorStatus.AppState.FAILING, Optional.of("step firewall failed: x")))).isEmpty();
        for (int pass = 5; pass < 50; pass++) {
            assertThat(failure.seen("t" + pass, app(SupervisorStatus.AppState.STARTING, Optional.empty()))).isEmpty();
        }
    }

    @Test
    void aFailingContainerGivesItsOwnProblemWhenTheAppHasNone() {
        SupervisorStatus.Container imap = new SupervisorStatus.Container("imap", "", "hearth/imap", "service", false,
                SupervisorStatus.Health.STOPPED, 0, Optional.of("hearth/imap is not built on this machine (run: hearth images build)"),
                Optional.empty());
        SupervisorStatus.App mail = new SupervisorStatus.App("mail", "1.0.0", SupervisorStatus.AppState.FAILING, Optional.empty(),
                List.of(imap), List.of());

        assertThat(AppCommand.LastingFailure.reasonOf(mail))
                .hasValue("container imap: hearth/imap is not built on this machine (run: hearth images build)");
    }
}
