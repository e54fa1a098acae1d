package org.hearth.core.ephemeral;

import java.time.Duration;

/**
 * @param warm       started, never-used containers kept ready
 * @param ceiling    most containers of the role alive at once: in use, warm, starting or being destroyed
 * @param maxWait    how long a connection waits for a container before it is turned away
 * @param readyWithin how long a new container may take to accept on its port before it counts as failed
 */
public record PoolSettings(int warm, int ceiling, Duration maxWait, Duration readyWithin) {
    public PoolSettings {
        if (ceiling < 1 || warm < 0 || warm > ceiling) {
            throw new IllegalArgumentException("pool needs 0 <= warm <= ceiling and ceiling >= 1");
        }
    }
}
