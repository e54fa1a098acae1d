package org.hearth.core.ownerapp;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class OwnerSessionsTest {

    /** A clock the test moves. */
    private static final class Hands extends Clock {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static Optional<String> cookie(String token) {
        return Optional.of("theme=dark; " + OwnerSessions.COOKIE + "=" + token + "; other=1");
    }

    @Test
    void aSessionIsKnownByItsCookieAmongOthersAndEndsWhenClosed() {
        OwnerSessions sessions = new OwnerSessions(new Hands());
        String token = sessions.open();
        assertThat(token).hasSize(43);
        assertThat(sessions.touch(cookie(token))).isTrue();
        assertThat(sessions.touch(cookie(token + "x"))).isFalse();
        assertThat(sessions.touch(Optional.empty())).isFalse();
        assertThat(sessions.touch(Optional.of("theme=dark"))).isFalse();
        sessions.close(cookie(token));
        assertThat(sessions.touch(cookie(token))).isFalse();
    }

    @Test
    void aSessionEndsAfterTwelveIdleHoursButEachRequestStartsTheWaitAgain() {
        Hands clock = new Hands();
        OwnerSessions sessions = new OwnerSessions(clock);
        String token = sessions.open();
        clock.now = clock.now.plus(Duration.ofHours(11));
        assertThat(sessions.touch(cookie(token))).isTrue();
        clock.now = clock.now.plus(Duration.ofHours(11));
        assertThat(sessions.touch(cookie(token))).isTrue();
        clock.now = clock.now.plus(OwnerSessions.IDLE).plusSeconds(1);
        assertThat(sessions.touch(cookie(token))).isFalse();
    }

    @Test
    void theSeventeenthLoginEndsTheOldest() {
        OwnerSessions sessions = new OwnerSessions(new Hands());
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i <= OwnerSessions.MAX; i++) {
            tokens.add(sessions.open());
        }
        assertThat(sessions.touch(cookie(tokens.get(0)))).isFalse();
        assertThat(tokens.subList(1, tokens.size())).allMatch(t -> sessions.touch(cookie(t)));
        assertThat(tokens).doesNotHaveDuplicates();
    }

    @Test
    void theCookieIsHostOnlySecureHttpOnlyAndSameSiteStrict() {
        assertThat(OwnerSessions.setCookie("abc")).startsWith("__Host-hearth-session=abc; Path=/; Secure; HttpOnly;"
                + " SameSite=Strict");
        assertThat(OwnerSessions.clearCookie()).contains("Max-Age=0");
    }
}
