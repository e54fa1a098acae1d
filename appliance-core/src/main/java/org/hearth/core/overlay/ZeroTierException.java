package org.hearth.core.overlay;

/** zerotier-one is not running, cannot be authenticated to, or refused a request; the message says which and what to do. */
public class ZeroTierException extends RuntimeException {
    public ZeroTierException(String message) {
        super(message);
    }
}
