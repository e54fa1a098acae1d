package org.hearth.core.pairing;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Keeps a paired box's address current in its zone, as a dynamic DNS client does: every few minutes
 * it asks the registry to publish the address its signed request comes from (behind a home router:
 * the router's, which the box itself does not know) at the name and each host its apps serve the
 * public from ({@code mx}). What was published, or why the registry would not, is recorded for
 * {@code hearth status}.
 */
public final class AddressAgent implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(AddressAgent.class);
    /** A home's address changes rarely, and the records' TTL is five minutes: at most that long stale. */
    private static final Duration EVERY = Duration.ofMinutes(5);
    private static final Duration UNPAIRED_LOOK = Duration.ofSeconds(5);

    private final RegistryClient registry;
    private final PairingState state;
    private final BoxIdentity identity;
    private final Function<String, Set<String>> publicHosts;
    private volatile boolean running = true;

    /** @param publicHosts the full host names the installed apps serve the public from, given the box's domain */
    public AddressAgent(RegistryClient registry, PairingState state, BoxIdentity identity,
                        Function<String, Set<String>> publicHosts) {
        this.registry = registry;
        this.state = state;
        this.identity = identity;
        this.publicHosts = publicHosts;
    }

    public void stop() {
        running = false;
    }

    @Override
    public void run() {
        while (running) {
            Duration next = EVERY;
            try {
                Optional<PairingState.Published> published = state.published();
                if (published.isEmpty()) {
                    next = UNPAIRED_LOOK;
                } else {
                    publish(published.get().domain());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("event=address-not-recorded error=\"{}\"", e.getMessage());
            }
            try {
                Thread.sleep(next.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void publish(String domain) throws Exception {
        List<String> hosts = hosts(domain, publicHosts.apply(domain));
        Optional<PairingState.Addresses> before = state.addresses();
        try {
            List<String> addresses = registry.putAddressFromRequest(identity, hosts);
            if (before.isEmpty() || !before.get().addresses().equals(addresses) || before.get().problem().isPresent()) {
                LOG.info("event=address-published domain={} addresses={} hosts={}", domain, addresses, hosts);
            }
            state.recordAddresses(new PairingState.Addresses(addresses, hosts, Instant.now().toString(), Optional.empty()));
        } catch (RegistryClient.RegistryException e) {
            LOG.warn("event=address-refused domain={} status={} error=\"{}\"", domain, e.status(), e.getMessage());
            state.recordAddresses(new PairingState.Addresses(before.map(PairingState.Addresses::addresses).orElse(List.of()),
                    hosts, Instant.now().toString(), Optional.of(e.getMessage())));
        }
    }

    /** The owners under {@code domain} that carry its address: "@" (the name itself) and each public host. */
    static List<String> hosts(String domain, Set<String> publicHosts) {
        List<String> hosts = new ArrayList<>(List.of("@"));
        for (String host : publicHosts) {
            if (host.endsWith("." + domain)) {
                hosts.add(host.substring(0, host.length() - domain.length() - 1));
            }
        }
        return hosts;
    }
}
