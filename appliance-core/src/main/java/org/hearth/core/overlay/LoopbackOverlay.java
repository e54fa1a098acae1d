package org.hearth.core.overlay;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

/**
 * Development stand-in for the owner's overlay: 127.0.0.2, beside a public side on 127.0.0.1.
 * Anyone on this machine can reach it, so it is labelled development-only wherever it shows.
 */
public final class LoopbackOverlay implements OverlayProvider {

    public static final String ADDRESS = "127.0.0.2";

    @Override
    public String name() {
        return "loopback";
    }

    @Override
    public boolean developmentOnly() {
        return true;
    }

    @Override
    public OverlayState refresh() {
        try {
            return OverlayState.up(InetAddress.getByName(ADDRESS), "lo", ADDRESS + "/32", Map.of());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a literal address always parses", e);
        }
    }

    @Override
    public void close() {
    }
}
