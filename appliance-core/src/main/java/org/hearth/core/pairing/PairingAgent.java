package org.hearth.core.pairing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.registry.protocol.PairingCode;
import org.hearth.registry.protocol.PairingKeys;
import org.hearth.registry.protocol.PairingSeal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The box's end of pairing, run by the supervisor while the box is unpaired and has a registry:
 * it opens its channel at the registry (reaching out, so NAT needs no opening) and answers the
 * phone's sealed messages — {@code hello} with the zone, {@code setup} by claiming the chosen name
 * with the box's key, running {@link BoxSetup} and publishing the mail's DNS records under the name,
 * telling the phone each step. A message that does
 * not open (altered, made up, replayed) is refused and nothing is done with it. A box restarted
 * while the phone waits answers what the phone sent meanwhile ({@link PairingState#taken}). Once done, the
 * channel is closed for good and the code forgotten; a new code (hearth pair --new) is taken up
 * within a poll's time.
 */
public final class PairingAgent implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(PairingAgent.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MIN_PASSWORD = 10;
    private static final Pattern LABEL = Pattern.compile("[a-z0-9][a-z0-9-]{1,30}[a-z0-9]");
    private static final Pattern ZONE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+");

    private final RegistryClient registry;
    private final PairingState state;
    private final BoxIdentity identity;
    private final BoxSetup setup;
    private volatile boolean running = true;

    public PairingAgent(RegistryClient registry, PairingState state, BoxIdentity identity, BoxSetup setup) {
        this.registry = registry;
        this.state = state;
        this.identity = identity;
        this.setup = setup;
    }

    public void stop() {
        running = false;
    }

    @Override
    public void run() {
        long backoffMillis = 1000;
        while (running) {
            try {
                Optional<PairingCode> code = state.code();
                if (code.isEmpty()) {
                    // Paired: nothing to wait for until the owner makes a new code (hearth pair --new).
                    Thread.sleep(5000);
                    continue;
                }
                serve(code.get());
                backoffMillis = 1000;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                // The JDK's HTTP client says "null" for a refused connection: its class says more.
                LOG.warn("event=pairing-registry-unreachable registry={} error=\"{}\" retry_s={}", registry.base(),
                        e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), backoffMillis / 1000);
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoffMillis = Math.min(backoffMillis * 2, 60_000);
            }
        }
    }

    /** One code's channel, until the box is paired, the code is replaced, or the agent stops. */
    private void serve(PairingCode code) throws IOException, InterruptedException {
        PairingKeys keys = PairingKeys.of(code);
        String channel = keys.channel();
        registry.open(keys);
        String zone = registry.zone();
        // Where the box left off: a message the phone sent while it was away is answered now. Fewer
        // at the relay than that means the relay lost them (it keeps them in memory): start at its count.
        int read = Math.min(state.taken(channel), registry.poll(channel, PairingSeal.TO_BOX, 0, 0).next());
        LOG.info("event=pairing-waiting registry={} zone={}", registry.base(), zone);
        while (running && code.equals(state.code().orElse(null))) {
            RegistryClient.Polled polled = registry.poll(channel, PairingSeal.TO_BOX, read, 25);
            for (String sealed : polled.messages()) {
                int seq = ++read;
                Optional<String> text = Optional.empty();
                try {
                    text = Optional.of(keys.toBox().open(seq, sealed));
                } catch (PairingSeal.TamperedException e) {
                    LOG.warn("event=pairing-message-refused reason=\"{}\"", e.getMessage());
                    reply(keys, Map.of("type", "error", "message", "A message from your phone was changed on its way to"
                            + " your box, so your box did nothing with it. Try again; if this happens again, something"
                            + " between your phone and the registry is tampering with your connection."));
                }
                if (text.isPresent() && handle(keys, zone, JSON.readTree(text.get()))) {
                    registry.close(keys);
                    LOG.info("event=paired registry={}", registry.base());
                    return;
                }
                // Once answered: a box that stops before this answers the message again when it is back.
                state.setTaken(channel, seq);
            }
            // A box restarted on a new network, or a registry restarted: the channel is opened again each round.
            registry.open(keys);
        }
    }

    /** Answers one message; true once the box is paired. */
    private boolean handle(PairingKeys keys, String zone, JsonNode message) throws IOException, InterruptedException {
        switch (message.path("type").asText()) {
            case "hello" -> {
                // A paired box (a new code, for a new phone) keeps its name: the phone asks only for its password.
                Map<String, String> hello = new LinkedHashMap<>(Map.of("type", "hello", "zone", zone));
                state.paired().ifPresent(p -> hello.put("name", p.name()));
                reply(keys, hello);
            }
            case "setup" -> {
                return setUp(keys, zone, message.path("name").asText(""), message.path("password").asText(""));
            }
            default -> reply(keys, Map.of("type", "error", "message", "Your box does not understand this phone's request"
                    + " (" + message.path("type").asText("no type") + "); reload the page."));
        }
        return false;
    }

    private boolean setUp(PairingKeys keys, String zone, String name, String password) throws IOException, InterruptedException {
        char[] secret = password.toCharArray();
        long start = System.nanoTime();
        try {
            if (secret.length < MIN_PASSWORD) {
                throw new BoxSetup.Refused("password", "Use at least " + MIN_PASSWORD + " characters.");
            }
            // The name becomes host names, folder names and URL paths on the box: one DNS label and
            // nothing else, whatever the phone (or something pretending to be it) sent.
            if (!LABEL.matcher(name).matches()) {
                throw new BoxSetup.Refused("name", "Use 3 to 32 lower-case letters, digits and inner hyphens.");
            }
            if (!ZONE.matcher(zone).matches()) {
                throw new IOException("the registry's zone \"" + zone + "\" is not a DNS name");
            }
            Optional<PairingState.Paired> before = state.paired();
            if (before.isPresent() && !before.get().name().equals(name)) {
                throw new BoxSetup.Refused("name", "This box is " + before.get().domain() + " already; it keeps that name.");
            }
            String domain = name + "." + zone;
            progress(keys, before.isPresent() ? "Checking your password" : "Reserving " + domain);
            claim(name, domain);
            // The apps take their host names from it: recorded before any of them starts under the old one.
            state.setDomain(domain);
            BoxSetup.Done done = setup.setUp(name, domain, secret, text -> {
                try {
                    progress(keys, text);
                } catch (IOException e) {
                    LOG.warn("event=pairing-progress-lost error=\"{}\"", e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            progress(keys, "Publishing your mail's DNS records");
            publish(domain, done.zoneLines());
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("type", "done");
            reply.put("address", done.address());
            reply.put("wireguard", done.wireGuardConfig());
            reply.put("wireguardQr", "data:image/png;base64," + Base64.getEncoder().encodeToString(done.wireGuardQrPng()));
            reply.put("mailSettings", done.mailSettings());
            done.ownerApp().ifPresent(url -> reply.put("ownerApp", url));
            reply(keys, reply);
            state.markPaired(name, domain, done.address());
            LOG.info("event=set-up domain={} setup_ms={}", domain, (System.nanoTime() - start) / 1_000_000);
            return true;
        } catch (BoxSetup.Refused e) {
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("type", "error");
            reply.put("message", e.getMessage());
            if (e.field() != null) {
                reply.put("field", e.field());
            }
            reply(keys, reply);
            return false;
        } catch (IOException | InterruptedException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("event=pairing-setup-failed error=\"{}\"", e.getMessage(), e);
            reply(keys, Map.of("type", "error", "message", "Your box could not finish setting up: " + e.getMessage()
                    + ". Try again; what was done is kept."));
            return false;
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /** The mail records under the box's name, through the registry; a refusal is the owner's to see. */
    private void publish(String domain, List<String> zoneLines) throws BoxSetup.Refused, IOException, InterruptedException {
        try {
            List<Map<String, String>> records = ZoneRecords.of(domain, zoneLines);
            registry.putRecords(identity, records);
            state.recordPublished(new PairingState.Published(domain, registry.nameservers(), records));
        } catch (RegistryClient.RegistryException e) {
            if (e.status() / 100 == 4) {
                throw new BoxSetup.Refused(null, "The registry refused your box's DNS records: " + e.getMessage());
            }
            throw e;
        }
    }

    private void claim(String name, String domain) throws BoxSetup.Refused, IOException, InterruptedException {
        try {
            String claimed = registry.claim(identity, name);
            if (!claimed.equals(domain)) {
                throw new IOException("the registry claimed " + claimed + " when the box asked for " + domain);
            }
        } catch (RegistryClient.RegistryException e) {
            // A retry after a failure further on: the box has this name already.
            if (e.getMessage().equals("this box has a name already: " + domain)) {
                return;
            }
            if (e.status() / 100 == 4) {
                throw new BoxSetup.Refused(e.status() == 429 ? null : "name", e.getMessage());
            }
            throw e;
        }
    }

    private void progress(PairingKeys keys, String text) throws IOException, InterruptedException {
        reply(keys, Map.of("type", "progress", "text", text));
    }

    /**
     * Seals a reply for its place in the phone's direction: the place after the last message there,
     * so a message someone else slipped in makes the phone refuse that one, not everything after.
     */
    private void reply(PairingKeys keys, Map<String, ?> message) throws IOException, InterruptedException {
        int seq = registry.poll(keys.channel(), PairingSeal.TO_PHONE, 0, 0).next() + 1;
        registry.post(keys.channel(), PairingSeal.TO_PHONE, keys.toPhone().seal(seq, JSON.writeValueAsString(message)));
    }
}
