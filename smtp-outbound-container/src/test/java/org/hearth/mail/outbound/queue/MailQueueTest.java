package org.hearth.mail.outbound.queue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MailQueueTest {

    private static final Instant T0 = Instant.parse("2026-12-01T09:00:00Z");
    private static final byte[] MESSAGE = "From: alice@a.test\r\nSubject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private MailQueue current;

    /** Opens the queue, closing the one open before (one holder at a time, as in the container). */
    private MailQueue open() throws IOException {
        if (current != null) {
            current.close();
        }
        current = MailQueue.open(dir, RetrySchedule.postfix());
        return current;
    }

    @AfterEach
    void closeQueue() throws IOException {
        if (current != null) {
            current.close();
        }
    }

    /** One attempt at T0 for bob, the only recipient. */
    private static void attemptAtT0(MailQueue q, String id, MailQueue.Outcome outcome) throws IOException {
        q.due(T0);
        q.record(id, Map.of("bob@b.test", outcome), T0);
    }

    private static String enqueue(MailQueue q, String... rcpts) throws IOException {
        return q.enqueue("alice@a.test", List.of(rcpts), new ByteArrayInputStream(MESSAGE), T0);
    }

    @Test
    void aCommittedMessageIsThereAfterAReopenByteForByte() throws IOException {
        String id = enqueue(open(), "bob@b.test", "carol@c.test");
        MailQueue reopened = open();
        assertThat(reopened.list()).singleElement().satisfies(e -> {
            assertThat(e.id()).isEqualTo(id);
            assertThat(e.sender()).isEqualTo("alice@a.test");
            assertThat(e.pending()).extracting(Envelope.Recipient::address).containsExactly("bob@b.test", "carol@c.test");
        });
        try (var in = reopened.message(id)) {
            assertThat(in.readAllBytes()).isEqualTo(MESSAGE);
        }
        assertThat(reopened.size(id)).isEqualTo(MESSAGE.length);
        // The commit is one file: the message with its envelope as the first line, and nothing else.
        try (var files = Files.list(dir.resolve("envelopes"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void whatACrashLeftHalfWrittenIsRemovedAndNothingElse() throws IOException {
        MailQueue q = open();
        String kept = enqueue(q, "bob@b.test");
        // Never acknowledged: a staged file, and a message file with no envelope in it.
        Files.writeString(dir.resolve("incoming").resolve("20261201T090000-aaaaaaaaaaaa"), "half");
        Files.writeString(dir.resolve("messages").resolve("20261201T090000-bbbbbbbbbbbb"), "no envelope");
        // A removal cut short after its commit: the message file is gone, its envelope file is not.
        String done = enqueue(q, "dave@d.test");
        attemptAtT0(q, done, MailQueue.Outcome.deferred("451 later"));
        Files.delete(dir.resolve("messages").resolve(done));

        MailQueue reopened = open();
        assertThat(reopened.list()).extracting(Envelope::id).containsExactly(kept);
        try (var files = Files.list(dir.resolve("incoming"))) {
            assertThat(files).isEmpty();
        }
        try (var files = Files.list(dir.resolve("messages"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly(kept);
        }
        try (var files = Files.list(dir.resolve("envelopes"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aDueMessageIsHandedOutOnceUntilItsAttemptIsRecordedOrReleased() throws IOException {
        MailQueue q = open();
        String id = enqueue(q, "bob@b.test");
        assertThat(q.due(T0)).extracting(Envelope::id).containsExactly(id);
        assertThat(q.due(T0)).isEmpty();
        q.release(id);
        assertThat(q.due(T0)).extracting(Envelope::id).containsExactly(id);
    }

    @Test
    void eachRecipientKeepsItsOwnOutcomeAndDeferralsBackOffLikePostfix() throws IOException {
        MailQueue q = open();
        String id = enqueue(q, "bob@b.test", "nobody@b.test", "carol@c.test");
        q.due(T0);
        MailQueue.Recorded first = q.record(id, Map.of(
                "bob@b.test", MailQueue.Outcome.delivered("250 2.0.0 Ok"),
                "nobody@b.test", MailQueue.Outcome.failed("550 5.1.1 <nobody@b.test>: user unknown"),
                "carol@c.test", MailQueue.Outcome.deferred("451 4.3.0 try again later")), T0);
        assertThat(first.failedNow()).extracting(Envelope.Recipient::address).containsExactly("nobody@b.test");
        assertThat(first.envelope().pending()).extracting(Envelope.Recipient::address).containsExactly("carol@c.test");
        assertThat(first.envelope().nextAttempt()).isEqualTo(T0.plusSeconds(300));
        assertThat(q.due(T0.plusSeconds(299))).isEmpty();

        // 300, 600, 1200, 2400, then 4000 s at most between attempts.
        Instant now = T0;
        for (int attempt = 2; attempt <= 6; attempt++) {
            now = q.list().get(0).nextAttempt();
            assertThat(q.due(now)).hasSize(1);
            MailQueue.Recorded r = q.record(id, Map.of("carol@c.test", MailQueue.Outcome.deferred("451 4.3.0 later")), now);
            assertThat(r.failedNow()).isEmpty();
        }
        List<Envelope> left = open().list();
        assertThat(left).singleElement().satisfies(e -> {
            assertThat(e.attempts()).isEqualTo(6);
            assertThat(Duration.between(T0, e.nextAttempt()).toSeconds()).isEqualTo(300 + 600 + 1200 + 2400 + 4000 + 4000);
            assertThat(e.recipients()).extracting(Envelope.Recipient::state).containsExactly(
                    Envelope.State.DELIVERED, Envelope.State.FAILED, Envelope.State.PENDING);
        });
    }

    @Test
    void theSenderIsWarnedOnceAfterFourHoursAndTheRestFailsAfterFiveDays() throws IOException {
        MailQueue q = open();
        String id = enqueue(q, "carol@c.test");
        q.due(T0);
        assertThat(q.record(id, Map.of("carol@c.test", MailQueue.Outcome.deferred("451 4.3.0 later")), T0.plusSeconds(3600))
                .delayWarning()).isFalse();
        q.due(T0.plus(Duration.ofHours(5)));
        assertThat(q.record(id, Map.of(), T0.plus(Duration.ofHours(5))).delayWarning()).isTrue();
        q.due(T0.plus(Duration.ofHours(6)));
        assertThat(q.record(id, Map.of(), T0.plus(Duration.ofHours(6))).delayWarning()).isFalse();

        q.due(T0.plus(Duration.ofDays(5)));
        MailQueue.Recorded expired = q.record(id, Map.of("carol@c.test", MailQueue.Outcome.deferred("451 4.3.0 still later")),
                T0.plus(Duration.ofDays(5)));
        assertThat(expired.failedNow()).singleElement().satisfies(r ->
                assertThat(r.lastReply()).isEqualTo("gave up after 5 days; last reply: 451 4.3.0 still later"));
        assertThat(q.list()).isEmpty();
        try (var files = Files.list(dir.resolve("messages"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aFullyDeliveredMessageLeavesTheQueue() throws IOException {
        MailQueue q = open();
        attemptAtT0(q, enqueue(q, "bob@b.test"), MailQueue.Outcome.delivered("250 ok"));
        assertThat(open().list()).isEmpty();
    }

    @Test
    void deliveryIsToldWhenAMessageBecomesDueAtOnceIncludingANoticeQueuedAsAnOutcomeIsRecorded() throws IOException {
        MailQueue q = open();
        List<Integer> told = new java.util.ArrayList<>();
        q.whenDueNow(() -> {
            try {
                told.add(q.list().size());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String id = enqueue(q, "bob@b.test");
        assertThat(told).as("told once the message is committed, not before").containsExactly(1);
        q.due(T0);
        q.record(id, Map.of("bob@b.test", MailQueue.Outcome.failed("550 no such user")), T0,
                recorded -> q.enqueue("", List.of("alice@a.test"), new ByteArrayInputStream(MESSAGE), T0));
        assertThat(told).as("the bounce").hasSize(2);
        String later = enqueue(q, "carol@c.test");
        q.due(T0);
        q.record(later, Map.of("carol@c.test", MailQueue.Outcome.deferred("421 busy")), T0);
        q.retryNow(later, T0.plusSeconds(10));
        assertThat(told).as("the submission, the bounce, the second submission, the owner's retry").hasSize(4);
        assertThat(q.retryNow("20261201T090000-000000000000", T0)).isFalse();
        assertThat(told).as("no such message: nothing became due").hasSize(4);
    }

    @Test
    void theOwnersRetryWhileAnAttemptHoldsTheMessageIsNotLostToThatAttemptsBackoff() throws IOException {
        MailQueue q = open();
        List<String> told = new java.util.ArrayList<>();
        q.whenDueNow(() -> told.add("due"));
        String id = enqueue(q, "bob@b.test");
        assertThat(q.due(T0)).extracting(Envelope::id).containsExactly(id);
        // The owner fixes the relay's password and retries while the old attempt is still on its way.
        assertThat(q.retryNow(id, T0)).isTrue();
        assertThat(told).as("held: not due yet, nothing to start").hasSize(1);
        q.record(id, Map.of("bob@b.test", MailQueue.Outcome.deferred("the relay's password is not here")), T0.plusSeconds(1));
        assertThat(told).as("due again once the attempt is recorded").hasSize(2);
        assertThat(q.due(T0.plusSeconds(1))).extracting(Envelope::id).containsExactly(id);
        q.record(id, Map.of("bob@b.test", MailQueue.Outcome.deferred("421 busy")), T0.plusSeconds(2));
        assertThat(q.due(T0.plusSeconds(3))).as("the retry was once; the backoff applies again").isEmpty();

        // An attempt that fails before it starts gives the message back: the retry starts a pass then.
        assertThat(q.retryNow(id, T0.plusSeconds(3))).isTrue();
        assertThat(q.due(T0.plusSeconds(3))).extracting(Envelope::id).containsExactly(id);
        q.retryNow(id, T0.plusSeconds(3));
        int before = told.size();
        q.release(id);
        assertThat(told).as("released with a retry asked: due now, and said so").hasSize(before + 1);
        assertThat(q.due(T0.plusSeconds(3))).extracting(Envelope::id).containsExactly(id);
    }

    @Test
    void theOwnerCanRetryNowOrDelete() throws IOException {
        MailQueue q = open();
        String id = enqueue(q, "bob@b.test");
        attemptAtT0(q, id, MailQueue.Outcome.deferred("421 busy"));
        assertThat(q.due(T0.plusSeconds(10))).isEmpty();
        assertThat(q.retryNow(id, T0.plusSeconds(10))).isTrue();
        assertThat(q.due(T0.plusSeconds(10))).extracting(Envelope::id).containsExactly(id);
        assertThat(q.delete(id)).as("held by an attempt").isFalse();
        q.release(id);
        assertThat(q.delete(id)).isTrue();
        assertThat(q.list()).isEmpty();
        assertThat(q.delete(id)).isFalse();
        assertThat(q.retryNow("../../etc/passwd", T0)).isFalse();
        assertThatThrownBy(() -> q.message("../../etc/passwd")).hasMessage("not a queue id: ../../etc/passwd");
        assertThatThrownBy(() -> q.size("../lock")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oneHolderAtATimeAndAddressesThatWouldBreakSmtpLinesAreRefused() throws IOException {
        MailQueue q = open();
        assertThatThrownBy(() -> MailQueue.open(dir, RetrySchedule.postfix()))
                .hasMessageContaining("is in use by another process");
        for (String bad : List.of("bob@b.test\r\nRCPT TO:<x@evil.test>", "bob @b.test", "<bob@b.test>", "bob")) {
            assertThatThrownBy(() -> q.enqueue("alice@a.test", List.of(bad), new ByteArrayInputStream(MESSAGE), T0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a recipient address");
        }
        assertThatThrownBy(() -> q.enqueue("alice@a.test\n", List.of("bob@b.test"), new ByteArrayInputStream(MESSAGE), T0))
                .hasMessageContaining("not a sender address");
        String id = enqueue(q, "bob@b.test");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("messages").resolve(id))))
                .isEqualTo("rw-------");
        attemptAtT0(q, id, MailQueue.Outcome.deferred("451 later"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("envelopes").resolve(id + ".json"))))
                .isEqualTo("rw-------");
    }
}
