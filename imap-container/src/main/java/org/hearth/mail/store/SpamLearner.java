package org.hearth.mail.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Teaches each user's Bayes database, one message at a time, behind the owner's back: what the owner
 * moves into Junk is spam, what they move out of it (anywhere but Trash) is ham, and what the
 * scanner's auto-learning thresholds call clearly one or the other is learned so. The learning is
 * the scanner's (SPAMC TELL, a sandbox with that one user's database writable); this only asks.
 * Nothing waits on it: an IMAP MOVE or a delivery answers first. A learning the scanner could not
 * take (down, restarting) is logged and dropped: the next ones teach the same.
 */
final class SpamLearner {

    private static final Logger LOG = LoggerFactory.getLogger(SpamLearner.class);
    /** Learnings waiting beyond this (a thousand-message move while the scanner is slow) are dropped. */
    private static final int BACKLOG = 2000;

    /** Why a message is learned, for the log. */
    enum Why { MOVED_TO_JUNK, MOVED_OUT_OF_JUNK, AUTOLEARN }

    private final Mailboxes mailboxes;
    private final SpamScanner scanner;
    private final int maxBytes;
    // One at a time: a learner's sandbox locks the user's database, and learning is never urgent.
    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(BACKLOG), r -> {
                Thread t = new Thread(r, "spam-learner");
                t.setDaemon(true);
                return t;
            });

    SpamLearner(Mailboxes mailboxes, SpamScanner scanner, int maxBytes) {
        this.mailboxes = mailboxes;
        this.scanner = scanner;
        this.maxBytes = maxBytes;
    }

    /**
     * Learns the message now at {@code uid} in the user's folder. The queue holds only where it is:
     * the message is read when its turn comes (gone by then, it is skipped).
     */
    void learn(String user, String folder, long uid, boolean spam, Why why) {
        String what = (spam ? "spam" : "ham") + " why=" + why.name().toLowerCase(Locale.ROOT);
        try {
            worker.execute(() -> {
                long start = System.nanoTime();
                try {
                    Optional<byte[]> message = mailboxes.content(user, folder, uid);
                    if (message.isEmpty()) {
                        LOG.info("event=learn-skipped user={} class={} reason=gone", user, what);
                    } else if (message.get().length > maxBytes) {
                        // As scans: spam is small, and SpamAssassin learns nothing useful from megabytes.
                        LOG.info("event=learn-skipped user={} class={} reason=too-large bytes={}", user, what,
                                message.get().length);
                    } else {
                        boolean learned = scanner.learn(user, message.get(), spam);
                        LOG.info("event=learned user={} class={} learned={} ms={}", user, what, learned,
                                (System.nanoTime() - start) / 1_000_000);
                    }
                } catch (Exception e) {
                    LOG.warn("event=learn-failed user={} class={} error={}", user, what, e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warn("event=learn-dropped user={} class={} reason=backlog", user, what);
        }
    }
}
