package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.message.request.CloseRequest;
import org.apache.james.imap.message.request.ExpungeRequest;
import org.apache.james.imap.message.request.FetchRequest;
import org.apache.james.imap.message.request.MoveRequest;
import org.apache.james.imap.message.request.ReplaceRequest;
import org.apache.james.imap.message.request.SelectRequest;
import org.apache.james.imap.message.request.StoreRequest;
import org.apache.james.mailbox.MailboxSession;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the commands that rewrite stored messages' flags one at a time per user, across all of the
 * user's sessions.
 *
 * <p>James 3.8.1's JPA store reads a message's flags, changes them and writes them back; two
 * sessions storing keywords on one message at once made OpenJPA refuse one ({@code NO Save
 * failed}, an optimistic lock on {@code JPAUserFlag}): 13 refused STOREs in 60 s of issue #21's
 * load (six sessions of one user toggling keywords on the same messages), none with turns in
 * four runs. A phone marking a message read while a laptop flags it must get both done. Turns
 * cover every command that rewrites stored flags: STORE, a FETCH that sets \Seen, SELECT (it
 * clears \Recent), EXPUNGE, CLOSE, MOVE and REPLACE. Reads (FETCH with PEEK, SEARCH, STATUS) and
 * APPEND, which writes only its own new message, do not wait.
 */
final class FlagWritesInTurn implements ImapProcessor {

    private final ImapProcessor james;
    private final Turns turns = new Turns();

    FlagWritesInTurn(ImapProcessor james) {
        this.james = james;
    }

    @Override
    public Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        MailboxSession user = session.getMailboxSession();
        if (user == null || !rewritesFlags(message)) {
            return james.processReactive(message, responder, session);
        }
        String key = user.getUser().asString();
        return Mono.usingWhen(turns.take(key), turn -> james.processReactive(message, responder, session),
                turns::release, (turn, error) -> turns.release(turn), turns::release);
    }

    static boolean rewritesFlags(ImapMessage message) {
        return message instanceof StoreRequest
                || message instanceof FetchRequest fetch && fetch.getFetch().isSetSeen()
                || message instanceof SelectRequest
                || message instanceof ExpungeRequest
                || message instanceof CloseRequest
                || message instanceof MoveRequest
                || message instanceof ReplaceRequest;
    }

    @Override
    public void configure(ImapConfiguration configuration) {
        james.configure(configuration);
    }

    /** One turn per key at a time, granted in the order asked, without blocking a thread while waiting. */
    static final class Turns {
        private final Map<String, Deque<Turn>> queues = new HashMap<>();

        /** A place in the queue for {@code key}; it is the turn once at the queue's head. */
        record Turn(String key, MonoSink<Turn> sink) {
        }

        /** Completes when the turn for {@code key} is this caller's; a caller that gives up while waiting leaves the queue. */
        Mono<Turn> take(String key) {
            return Mono.create(sink -> {
                Turn turn = new Turn(key, sink);
                boolean now;
                synchronized (this) {
                    Deque<Turn> queue = queues.computeIfAbsent(key, k -> new ArrayDeque<>());
                    queue.addLast(turn);
                    now = queue.size() == 1;
                }
                sink.onCancel(() -> release(turn).subscribe());
                if (now) {
                    sink.success(turn);
                }
            });
        }

        /** Ends {@code turn}, or takes it out of the queue if it never came; a second call does nothing. */
        Mono<Void> release(Turn turn) {
            return Mono.fromRunnable(() -> {
                Turn next = null;
                synchronized (this) {
                    Deque<Turn> queue = queues.get(turn.key());
                    if (queue == null) {
                        return;
                    }
                    if (queue.peekFirst() == turn) {
                        queue.removeFirst();
                        next = queue.peekFirst();
                    } else {
                        queue.remove(turn);
                    }
                    if (queue.isEmpty()) {
                        queues.remove(turn.key());
                    }
                }
                if (next != null) {
                    next.sink().success(next);
                }
            });
        }
    }
}
