package org.hearth.mail.webmail;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class OwnerSessionsTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T10:00:00Z"));
    private final OwnerSessions sessions = new OwnerSessions(new OwnerSessions.Limits(Duration.ofMinutes(30), Duration.ofHours(12), 3),
            (InstantSource) now::get);

    private OwnerSession open(String user) {
        return sessions.open(user, "pw", Set.of(user));
    }

    @Test
    void anIdleSessionEndsAndAnActiveOneLastsUntilItsAbsoluteLimit() {
        OwnerSession idle = open("a@x.test");
        now.set(now.get().plus(Duration.ofMinutes(31)));
        assertThat(sessions.find(idle.id())).isEmpty();
        OwnerSession active = open("a@x.test");
        for (int i = 0; i < 24; i++) {
            now.set(now.get().plus(Duration.ofMinutes(29)));
            assertThat(sessions.find(active.id())).isPresent();
        }
        now.set(now.get().plus(Duration.ofMinutes(29)));
        assertThat(sessions.find(active.id())).as("past 12 h since login").isEmpty();
    }

    @Test
    void theSweepEndsIdleSessionsWithoutCountingItselfAsTheirUse() {
        OwnerSession idle = open("a@x.test");
        OwnerSession used = open("b@x.test");
        for (int minute = 0; minute < 40; minute++) {
            now.set(now.get().plus(Duration.ofMinutes(1)));
            sessions.sweep();
            assertThat(sessions.find(used.id())).isPresent();
        }
        assertThat(sessions.isLive(idle.id())).isFalse();
        assertThat(sessions.size()).isEqualTo(1);
    }

    @Test
    void loggingOutEverywhereEndsEveryDeviceOfThatUserOnly() {
        OwnerSession phone = open("a@x.test");
        OwnerSession laptop = open("a@x.test");
        OwnerSession other = open("b@x.test");
        assertThat(sessions.closeAll("a@x.test")).isEqualTo(2);
        assertThat(sessions.find(phone.id())).isEmpty();
        assertThat(sessions.find(laptop.id())).isEmpty();
        assertThat(sessions.find(other.id())).isPresent();
    }

    @Test
    void aUserHoldsAtMostTheLimitTheOldestGoingFirst() {
        OwnerSession first = open("a@x.test");
        now.set(now.get().plusSeconds(1));
        open("a@x.test");
        now.set(now.get().plusSeconds(1));
        open("a@x.test");
        now.set(now.get().plusSeconds(1));
        OwnerSession fourth = open("a@x.test");
        assertThat(sessions.find(first.id())).isEmpty();
        assertThat(sessions.find(fourth.id())).isPresent();
        assertThat(sessions.size()).isEqualTo(3);
    }

    @Test
    void idsAndFormTokensAreFreshAndUnguessableAndCompareOnlyWhenEqual() {
        OwnerSession a = open("a@x.test");
        OwnerSession b = open("a@x.test");
        assertThat(a.id()).isNotEqualTo(b.id()).hasSize(43);
        assertThat(a.formToken()).isNotEqualTo(a.id()).isNotEqualTo(b.formToken());
        assertThat(OwnerSessions.sameToken(a.formToken(), a.formToken())).isTrue();
        assertThat(OwnerSessions.sameToken(a.formToken(), b.formToken())).isFalse();
        assertThat(OwnerSessions.sameToken(a.formToken(), null)).isFalse();
        assertThat(sessions.find(null)).isEmpty();
    }
}
