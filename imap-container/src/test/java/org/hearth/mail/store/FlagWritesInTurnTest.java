package org.hearth.mail.store;

import org.hearth.mail.store.FlagWritesInTurn.Turns;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The turn-taking under {@link FlagWritesInTurn}; the store-level effect is ImapLoadTest's (no stale flags). */
class FlagWritesInTurnTest {

    private final Turns turns = new Turns();

    @Test
    void aSecondTurnForOneUserComesWhenTheFirstEnds() {
        Turns.Turn first = turns.take("a@d.example").block();
        AtomicReference<Turns.Turn> second = new AtomicReference<>();
        turns.take("a@d.example").subscribe(second::set);
        assertThat(second.get()).isNull();

        turns.release(first).block();
        assertThat(second.get()).isNotNull();
    }

    @Test
    void anotherUserDoesNotWait() {
        turns.take("a@d.example").block();
        AtomicReference<Turns.Turn> other = new AtomicReference<>();
        turns.take("b@d.example").subscribe(other::set);
        assertThat(other.get()).isNotNull();
    }

    @Test
    void aWaiterThatGivesUpLeavesTheQueueAndASecondReleaseDoesNothing() {
        Turns.Turn first = turns.take("a@d.example").block();
        AtomicReference<Turns.Turn> gaveUp = new AtomicReference<>();
        Disposable waiting = turns.take("a@d.example").subscribe(gaveUp::set);
        AtomicReference<Turns.Turn> third = new AtomicReference<>();
        turns.take("a@d.example").subscribe(third::set);

        waiting.dispose(); // the connection closed while its STORE waited
        turns.release(first).block();
        turns.release(first).block();

        assertThat(gaveUp.get()).isNull();
        assertThat(third.get()).isNotNull();
        AtomicReference<Turns.Turn> fourth = new AtomicReference<>();
        turns.take("a@d.example").subscribe(fourth::set);
        assertThat(fourth.get()).as("the third still holds the turn").isNull();
    }
}
