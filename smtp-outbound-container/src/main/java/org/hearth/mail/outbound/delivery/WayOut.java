package org.hearth.mail.outbound.delivery;

import org.hearth.mail.outbound.queue.ShortDuration;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the latest connections out say about the way out, for hearth status: whether port 25
 * reaches MX hosts (many home connections block it; then a relay is the answer), or how the relay
 * last answered. Learnt from real deliveries, not probes: an appliance asks nobody it has no mail for.
 */
public final class WayOut {

    private record Fact(boolean works, String detail, Instant at) {
    }

    private final Optional<Relay> relay;
    private volatile Fact port25;
    private volatile Fact relayFact;

    public WayOut(Optional<Relay> relay) {
        this.relay = relay;
    }

    void direct(boolean connected, String detail, Instant at) {
        port25 = new Fact(connected, detail, at);
    }

    void relayed(boolean works, String detail, Instant at) {
        relayFact = new Fact(works, detail, at);
    }

    /** One or two facts: "port25" and, with a relay, "relay". */
    public Map<String, String> facts(Instant now) {
        Map<String, String> facts = new LinkedHashMap<>();
        if (relay.isPresent()) {
            facts.put("port25", "not used: mail for other domains goes through the relay");
            Fact r = relayFact;
            facts.put("relay", relay.get().name() + (r == null ? ", not used yet"
                    : (r.works() ? ", works (" : ", failing (") + r.detail() + ", " + ago(r.at(), now) + ")"));
            return facts;
        }
        Fact p = port25;
        facts.put("port25", p == null ? "not tried yet (no mail sent to another domain)"
                : p.works() ? "works (" + p.detail() + ", " + ago(p.at(), now) + ")"
                : "no connection (" + p.detail() + ", " + ago(p.at(), now) + "); if the provider blocks port 25,"
                        + " name a relay in appliance.yaml (egress.relay)");
        return facts;
    }

    private static String ago(Instant at, Instant now) {
        return ShortDuration.of(Duration.between(at, now)) + " ago";
    }
}
