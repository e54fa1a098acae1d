package org.hearth.core.supervisor;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RestartBackoffTest {

    private final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void firstRestartIsImmediateThenDelaysDouble() {
        RestartBackoff backoff = new RestartBackoff();
        assertThat(backoff.mayRestart("a/x", t0)).isTrue();
        backoff.restarted("a/x", t0);

        assertThat(backoff.mayRestart("a/x", t0.plusMillis(499))).isFalse();
        assertThat(backoff.mayRestart("a/x", t0.plusMillis(500))).isTrue();
        backoff.restarted("a/x", t0.plusMillis(500));
        assertThat(backoff.mayRestart("a/x", t0.plusMillis(1499))).isFalse();
        assertThat(backoff.mayRestart("a/x", t0.plusMillis(1500))).isTrue();
        assertThat(backoff.total("a/x")).isEqualTo(2);
    }

    @Test
    void manyRestartsWithinTenMinutesAreACrashLoopThatCoolsDown() {
        RestartBackoff backoff = new RestartBackoff();
        Instant t = t0;
        for (int i = 0; i <= RestartBackoff.CRASH_LOOP; i++) {
            backoff.restarted("a/x", t);
            t = t.plusSeconds(31);
        }
        Instant last = t.minusSeconds(31);
        assertThat(backoff.crashLooping("a/x", t)).isTrue();
        // Sixth restart in the window: 500 ms doubled five times.
        assertThat(backoff.mayRestart("a/x", last.plusSeconds(15))).isFalse();
        assertThat(backoff.mayRestart("a/x", last.plusSeconds(16))).isTrue();
        assertThat(backoff.crashLooping("a/x", t.plus(Duration.ofMinutes(11)))).isFalse();
        assertThat(backoff.total("a/x")).isEqualTo(RestartBackoff.CRASH_LOOP + 1);
    }
}
