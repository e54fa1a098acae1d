package org.hearth.mail.common;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class AuthThrottleTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T12:00:00Z"));
    private final AuthThrottle throttle = new AuthThrottle(3, Duration.ofSeconds(2), Duration.ofMinutes(5),
            () -> now.get());

    private void pass(Duration d) {
        now.set(now.get().plus(d));
    }

    @Test
    void repeatedFailuresWaitLongerEachTimeUpToTheLongest() {
        for (int i = 0; i < 2; i++) {
            throttle.failed("alice", "10.0.0.1");
        }
        assertThat(throttle.refusal("alice", "10.0.0.9")).isEmpty();
        throttle.failed("alice", "10.0.0.1");
        assertThat(throttle.refusal("alice", "10.0.0.9")).contains(Duration.ofSeconds(2));
        assertThat(throttle.refusal("bob", "10.0.0.1")).contains(Duration.ofSeconds(2));
        for (int i = 0; i < 20; i++) {
            throttle.failed("alice", "10.0.0.1");
        }
        assertThat(throttle.refusal("alice", "10.0.0.9")).contains(Duration.ofMinutes(5));
    }

    @Test
    void aRecordIsKeptThroughPausesAndForgottenAfterADayOfQuiet() {
        for (int i = 0; i < 5; i++) {
            throttle.failed("alice", "10.0.0.1");
        }
        // A patient guesser that waits out its wait still doubles it at the next failure.
        pass(Duration.ofMinutes(11));
        throttle.failed("alice", "10.0.0.1");
        assertThat(throttle.refusal("alice", "10.0.0.1")).contains(Duration.ofSeconds(16));
        pass(Duration.ofDays(2));
        throttle.failed("alice", "10.0.0.1");
        assertThat(throttle.refusal("alice", "10.0.0.1")).isEmpty();

        // A guesser with many names leaves records only while they are recent.
        for (int i = 0; i < 2000; i++) {
            throttle.failed("name" + i, "10.0.0.2");
        }
        assertThat(throttle.records()).isGreaterThan(2000);
        // A day later they go, at a sweep: when the records have doubled since the last one.
        pass(Duration.ofDays(2));
        for (int i = 0; i < 100; i++) {
            throttle.failed("late" + i, "10.0.0.3");
        }
        assertThat(throttle.records()).as("only the late names and their client").isEqualTo(101);
    }
}
