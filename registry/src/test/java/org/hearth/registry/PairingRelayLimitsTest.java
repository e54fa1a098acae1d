package org.hearth.registry;

import org.hearth.registry.protocol.PairingSeal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Anyone may open a pairing channel and fill it, so the relay bounds what it holds: channels per
 * client address, bytes per channel, bytes in all. The relay itself over its real store; the
 * budget in all made small here (a megabyte) to be reached with few messages.
 */
class PairingRelayLimitsTest {

    private static final String CLOSE_HASH = Base64.getEncoder().encodeToString(new byte[32]);
    /** A sealed-looking message of about 60 KB (the relay cannot tell it from a real one: it reads none). */
    private static final String BIG = "v1.1.AAAAAAAAAAAAAAAA." + "A".repeat(60_000);

    @TempDir
    Path data;

    @Test
    void oneAddressHoldsAFewChannelsAndNoMore() throws Exception {
        try (RegistryStore store = new RegistryStore(data)) {
            oneAddressHoldsAFewChannelsAndNoMore(new PairingRelay(store, Clock.systemUTC()));
        }
    }

    private static void oneAddressHoldsAFewChannelsAndNoMore(PairingRelay relay) throws Exception {
        for (int i = 0; i < PairingRelay.MAX_CHANNELS_PER_CLIENT; i++) {
            assertThat(relay.open(channel("a", i), CLOSE_HASH, "198.51.100.1").status()).isEqualTo(200);
        }
        Registry.Answer refused = relay.open(channel("a", 99), CLOSE_HASH, "198.51.100.1");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.body().toString()).contains("pairings in progress");
        // A box reopening its own channel (after a restart), and another address, are not held back.
        assertThat(relay.open(channel("a", 0), CLOSE_HASH, "198.51.100.1").status()).isEqualTo(200);
        assertThat(relay.open(channel("b", 0), CLOSE_HASH, "198.51.100.2").status()).isEqualTo(200);
    }

    @Test
    void aChannelHoldsAPairingsFewMessagesAndTheRelayAFewMegabytesInAll() throws Exception {
        try (RegistryStore store = new RegistryStore(data)) {
            fillsUpToItsBudgets(new PairingRelay(store, Clock.systemUTC(), 1024 * 1024));
        }
    }

    private static void fillsUpToItsBudgets(PairingRelay relay) throws Exception {
        String first = channel("c", 0);
        relay.open(first, CLOSE_HASH, "198.51.100.3");
        int taken = 0;
        while (relay.post(first, PairingSeal.TO_BOX, BIG).status() == 202) {
            taken++;
        }
        assertThat(taken).isEqualTo(PairingRelay.MAX_CHANNEL_BYTES / BIG.length());
        assertThat(relay.post(first, PairingSeal.TO_PHONE, BIG).status()).as("the other direction shares the budget").isEqualTo(429);

        // Channels of other addresses fill what is left of the megabyte, then the relay takes no more.
        int status = 202;
        for (int client = 4; status != 503 && client < 20; client++) {
            String c = channel("c", client);
            relay.open(c, CLOSE_HASH, "198.51.100." + client);
            do {
                status = relay.post(c, PairingSeal.TO_BOX, BIG).status();
            } while (status == 202);
        }
        assertThat(status).isEqualTo(503);
        assertThat(relay.buffered()).isLessThanOrEqualTo(1024 * 1024).isGreaterThan(1024 * 1024 - BIG.length());
    }

    /** A channel name of the form the relay's routes take (hex, as {@code PairingKeys} makes). */
    private static String channel(String prefix, int i) {
        return String.format("%-32s", prefix + Integer.toHexString(i)).replace(' ', '0').replaceAll("[^0-9a-f]", "0");
    }
}
