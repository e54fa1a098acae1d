package org.hearth.core.network;

import java.net.InetSocketAddress;
import java.util.Optional;

/** Where the edge listener sends one connection; released when that connection ends. */
public interface Upstream {

    InetSocketAddress address();

    /** The connection is over; for an ephemeral container, it is destroyed now. */
    void release();

    /** Finds the upstream of a new connection, waiting if it must; empty turns the connection away. */
    @FunctionalInterface
    interface Source {
        Optional<Upstream> acquire();
    }

    /** A long-running container: every connection goes to the same address, releasing costs nothing. */
    static Upstream fixed(InetSocketAddress address) {
        return fixed(address, () -> {
        });
    }

    /** A long-running container whose connections are counted: {@code ended} runs when each one is over. */
    static Upstream fixed(InetSocketAddress address, Runnable ended) {
        return new Upstream() {
            @Override
            public InetSocketAddress address() {
                return address;
            }

            @Override
            public void release() {
                ended.run();
            }
        };
    }
}
