package org.hearth.mail.outbound.delivery;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store's domain list asked once per few seconds, not once per message. */
class LocalStoreTest {

    private Instant now = Instant.parse("2026-12-02T00:00:00Z");
    private final List<Set<String>> answers = new ArrayList<>(List.of(Set.of("a.test"), Set.of("a.test", "b.test")));
    private int asked;
    private boolean down;

    private final LocalStore store = new LocalStore() {
        @Override
        public Set<String> domains() throws IOException {
            asked++;
            if (down) {
                throw new IOException("the store does not answer");
            }
            return answers.size() > 1 ? answers.remove(0) : answers.get(0);
        }

        @Override
        public InetSocketAddress lmtp() {
            return InetSocketAddress.createUnresolved("imap", 2425);
        }
    };

    @Test
    void theListIsAskedOncePerKeepAndANewDomainIsSeenAfterIt() throws IOException {
        LocalStore remembering = LocalStore.remembering(store, Duration.ofSeconds(5), () -> now);
        assertThat(remembering.domains()).containsExactly("a.test");
        now = now.plusSeconds(4);
        assertThat(remembering.domains()).containsExactly("a.test");
        assertThat(asked).isEqualTo(1);
        now = now.plusSeconds(1);
        assertThat(remembering.domains()).containsExactlyInAnyOrder("a.test", "b.test");
        assertThat(asked).isEqualTo(2);
        assertThat(remembering.lmtp().getHostString()).isEqualTo("imap");
    }

    @Test
    void aFailureIsKeptAsLongSoWaitingWorkersDoNotEachWaitItOut() throws IOException {
        LocalStore remembering = LocalStore.remembering(store, Duration.ofSeconds(5), () -> now);
        down = true;
        assertThatThrownBy(remembering::domains).hasMessageContaining("does not answer");
        down = false;
        assertThatThrownBy(remembering::domains).hasMessageContaining("does not answer");
        assertThat(asked).isEqualTo(1);
        now = now.plusSeconds(5);
        assertThat(remembering.domains()).containsExactly("a.test");
        assertThat(asked).isEqualTo(2);
    }
}
