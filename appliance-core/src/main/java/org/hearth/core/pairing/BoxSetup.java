package org.hearth.core.pairing;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the box does with the owner's choices once its name is claimed: storage, the mail app, the
 * owner's mailbox and the phone on the overlay. Each step may run again (a retry after a failure
 * halfway) and leaves the same result.
 */
public interface BoxSetup {

    /**
     * @param domain   the box's full name (NAME.ZONE), the mail domain
     * @param progress told each step as it starts, in words for the owner
     */
    Done setUp(String name, String domain, char[] password, Consumer<String> progress) throws Exception;

    /**
     * The owner's address, the phone's WireGuard configuration (its QR code as a PNG), what a mail
     * client may ask, the DNS records the box's mail needs under its name (zone file lines), and
     * where the phone finds the box's owner app over the overlay (empty when it serves none).
     */
    record Done(String address, String wireGuardConfig, byte[] wireGuardQrPng, Map<String, String> mailSettings,
                List<String> zoneLines, java.util.Optional<String> ownerApp) {
    }

    /** The owner's choice cannot be taken: the message says why, {@code field} which choice ("name", "password") if one. */
    final class Refused extends Exception {
        private final String field;

        public Refused(String field, String message) {
            super(message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }
}
