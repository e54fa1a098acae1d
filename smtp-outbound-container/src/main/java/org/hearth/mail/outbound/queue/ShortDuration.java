package org.hearth.mail.outbound.queue;

import java.time.Duration;

/**
 * A duration as the owner reads it in hearth status and the queue's listing: 45s, 12m, 5h, 3d.
 * Here because every package that shows one (admin, delivery) already builds on the queue.
 */
public final class ShortDuration {

    private ShortDuration() {
    }

    /** In whole units, the largest of which there are at least two; a negative duration reads 0s. */
    public static String of(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s < 172800 ? s / 3600 + "h" : s / 86400 + "d";
    }
}
