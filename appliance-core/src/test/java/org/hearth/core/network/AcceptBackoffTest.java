package org.hearth.core.network;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AcceptBackoffTest {

    @Test
    void aRepeatingFailureIsSaidOnceAndItsCountWhenItEndsWhileTheWaitDoublesToOneSecond() {
        AcceptBackoff backoff = new AcceptBackoff();
        List<String> lines = new ArrayList<>();
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            lines.addAll(backoff.failed("Too many open files"));
            waits.add(backoff.waitMs());
        }
        lines.addAll(backoff.failed("Socket closed by peer"));
        lines.addAll(backoff.succeeded());

        assertThat(waits).containsExactly(10L, 20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L);
        assertThat(lines).containsExactly(
                "event=accept-failed error=\"Too many open files\" wait_max_ms=1000",
                "event=accept-failed error=\"Too many open files\" count=9 state=changed",
                "event=accept-failed error=\"Socket closed by peer\" wait_max_ms=1000",
                "event=accept-recovered error=\"Socket closed by peer\" count=1");
        assertThat(backoff.succeeded()).as("nothing to say while accepts work").isEmpty();
        assertThat(backoff.failed("Too many open files")).hasSize(1);
        assertThat(backoff.waitMs()).as("a new run of failures starts short again").isEqualTo(10L);
    }
}
