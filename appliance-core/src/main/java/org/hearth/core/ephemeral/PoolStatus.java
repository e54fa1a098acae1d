package org.hearth.core.ephemeral;

import java.util.Optional;

/**
 * One ephemeral role's pool as {@code hearth status} shows it.
 *
 * @param waiting      connections waiting for a container right now
 * @param created      containers that became ready since the supervisor started
 * @param destroyed    containers destroyed (after their one connection, or unused on a spec change)
 * @param failed       containers that did not come up, or died while warm
 * @param turnedAway   connections refused because no container came within {@code waitMs}
 * @param handoffP50Ms median time from a connection's arrival to its container (0 = none yet)
 * @param startP50Ms   median time from create to accepting on the port
 */
public record PoolStatus(int warm, int starting, int inUse, int waiting, int warmTarget, int ceiling, long waitMs,
                         long created, long destroyed, long failed, long turnedAway,
                         double handoffP50Ms, double handoffP95Ms, double startP50Ms, Optional<String> problem) {
}
