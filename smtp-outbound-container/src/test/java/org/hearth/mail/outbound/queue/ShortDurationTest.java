package org.hearth.mail.outbound.queue;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ShortDurationTest {

    @Test
    void readsInTheLargestUnitOfWhichThereAreAtLeastTwo() {
        assertThat(ShortDuration.of(Duration.ofSeconds(119))).isEqualTo("119s");
        assertThat(ShortDuration.of(Duration.ofSeconds(120))).isEqualTo("2m");
        assertThat(ShortDuration.of(Duration.ofSeconds(7199))).isEqualTo("119m");
        assertThat(ShortDuration.of(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(ShortDuration.of(Duration.ofHours(47).plusMinutes(59))).isEqualTo("47h");
        assertThat(ShortDuration.of(Duration.ofDays(2))).isEqualTo("2d");
        assertThat(ShortDuration.of(Duration.ofSeconds(-5))).as("a clock that stepped back").isEqualTo("0s");
    }
}
