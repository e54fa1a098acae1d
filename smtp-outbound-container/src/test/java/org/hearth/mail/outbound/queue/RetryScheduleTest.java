package org.hearth.mail.outbound.queue;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetryScheduleTest {

    private static final Instant T = Instant.parse("2026-12-01T09:00:00Z");

    @Test
    void postfixsWaitsDoubleUpToTheirCeiling() {
        RetrySchedule s = RetrySchedule.postfix();
        assertThat(s.nextAttempt(1, T)).isEqualTo(T.plusSeconds(300));
        assertThat(s.nextAttempt(2, T)).isEqualTo(T.plusSeconds(600));
        assertThat(s.nextAttempt(5, T)).isEqualTo(T.plusSeconds(4000));
        assertThat(s.delayWarningDue(T, T.plus(Duration.ofHours(4)))).isTrue();
        assertThat(s.expired(T, T.plus(Duration.ofDays(5)).minusSeconds(1))).isFalse();
    }

    @Test
    void theEnvironmentChangesWhatItNamesAndABadValueIsNamed() {
        RetrySchedule s = RetrySchedule.fromEnvironment(Map.of("QUEUE_MINIMAL_BACKOFF", "3s", "QUEUE_MAXIMAL_BACKOFF", "10s",
                "QUEUE_DELAY_WARNING", "20s", "QUEUE_LIFETIME", "2m"));
        assertThat(s).isEqualTo(new RetrySchedule(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(20),
                Duration.ofMinutes(2)));
        assertThat(RetrySchedule.fromEnvironment(Map.of("QUEUE_LIFETIME", "7d"))).isEqualTo(new RetrySchedule(
                Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofHours(4), Duration.ofDays(7)));

        assertThatThrownBy(() -> RetrySchedule.fromEnvironment(Map.of("QUEUE_LIFETIME", "5 days")))
                .hasMessage("QUEUE_LIFETIME \"5 days\" is not a duration such as 300s, 30m, 4h or 5d");
        assertThatThrownBy(() -> RetrySchedule.fromEnvironment(Map.of("QUEUE_MAXIMAL_BACKOFF", "60s")))
                .hasMessage("QUEUE_MAXIMAL_BACKOFF (60s) is shorter than QUEUE_MINIMAL_BACKOFF (300s)");
    }
}
