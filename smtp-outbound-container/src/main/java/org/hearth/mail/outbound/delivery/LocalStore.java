package org.hearth.mail.outbound.delivery;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Set;

/**
 * The appliance's own store: mail for its domains goes there over LMTP, never out to the world
 * and back in through its own MX.
 */
public interface LocalStore {

    /** The domains the store holds mailboxes for; an IOException when it cannot say now. */
    Set<String> domains() throws IOException;

    /** The store's LMTP port on the internal network, resolved now (the store's address changes when it is recreated). */
    InetSocketAddress lmtp();

    /**
     * This store with its domains asked at most once per {@code keep}: every delivery asks which
     * domains are local, and a burst of mail asked the store once per message. A domain added or
     * removed is known here within {@code keep}. A failure is kept as long: delivery workers
     * waiting for the answer would otherwise each wait out the store's timeout in turn.
     */
    static LocalStore remembering(LocalStore store, Duration keep, InstantSource clock) {
        return new LocalStore() {
            private Set<String> known;
            private IOException failed;
            private Instant askedAt;

            @Override
            public synchronized Set<String> domains() throws IOException {
                Instant now = clock.instant();
                if (askedAt == null || !now.isBefore(askedAt.plus(keep)) || now.isBefore(askedAt)) {
                    askedAt = now;
                    try {
                        known = Set.copyOf(store.domains());
                        failed = null;
                    } catch (IOException e) {
                        known = null;
                        failed = e;
                    }
                }
                if (failed != null) {
                    throw new IOException(failed.getMessage(), failed);
                }
                return known;
            }

            @Override
            public InetSocketAddress lmtp() {
                return store.lmtp();
            }
        };
    }
}
