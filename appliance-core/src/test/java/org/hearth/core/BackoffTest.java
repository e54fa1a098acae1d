package org.hearth.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {

    @Test
    void doublesFromTheFirstFailureUpToTheCeiling() {
        Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));
        assertThat(backoff.after(0)).isZero();
        assertThat(backoff.after(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(backoff.after(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.after(6)).isEqualTo(Duration.ofSeconds(16));
        assertThat(backoff.after(7)).isEqualTo(Duration.ofSeconds(30));
        assertThat(backoff.after(1_000)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void freeFailuresWaitNothing() {
        Backoff backoff = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(15), 3);
        assertThat(backoff.after(2)).isZero();
        assertThat(backoff.after(3)).isEqualTo(Duration.ofSeconds(10));
        assertThat(backoff.after(4)).isEqualTo(Duration.ofSeconds(20));
        assertThat(backoff.after(9)).isEqualTo(Duration.ofSeconds(640));
        assertThat(backoff.after(10)).isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void aCeilingBelowTheFirstWaitIsRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("first <= ceiling");
    }
}
