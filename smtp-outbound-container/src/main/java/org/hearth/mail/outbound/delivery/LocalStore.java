package org.hearth.mail.outbound.delivery;

import java.io.IOException;
import java.net.InetSocketAddress;
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
}
