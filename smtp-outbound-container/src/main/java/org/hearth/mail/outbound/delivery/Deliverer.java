package org.hearth.mail.outbound.delivery;

import org.hearth.mail.common.Smtputf8;
import org.hearth.mail.outbound.queue.DeliveryStatusNotice;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.MailQueue.Outcome;
import org.hearth.mail.outbound.queue.RetrySchedule;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Takes what is due from the queue and tries it once: recipients grouped by domain, the
 * appliance's own domains delivered to its store over LMTP, every other domain routed by its MX
 * records, each host's addresses tried in order until one answers for the recipients; outcomes recorded; the sender owed a bounce or a delay notice gets it (a notice
 * itself, with an empty reverse path, never gets one).
 */
public final class Deliverer {

    private static final Logger LOG = LoggerFactory.getLogger(Deliverer.class);
    /** How many bytes of a message are read for a notice's returned headers. */
    private static final int HEADER_BYTES = 64 * 1024;
    /** The local store as a destination: not a domain name, so no domain can share its count. */
    private static final String LOCAL_STORE = "[the mail store]";

    private final MailQueue queue;
    private final Router mx;
    private final SmtpClient smtp;
    private final Optional<LocalStore> store;
    private final SmtpClient lmtp;
    private final int port;
    private final String hostname;
    private final RetrySchedule schedule;
    private final InstantSource clock;
    private final ExecutorService workers;
    private final DestinationLimit limit;
    private final Optional<Relay> relay;
    private final Optional<MtaSts> mtaSts;
    private final Optional<Dane> dane;
    private final WayOut wayOut;

    /**
     * @param port     25 in the world; a test's receiving server elsewhere
     * @param hostname this appliance's name, in notices
     */
    public Deliverer(MailQueue queue, Router mx, SmtpClient smtp, int port, String hostname, RetrySchedule schedule,
                     InstantSource clock) {
        this(queue, mx, smtp, Optional.empty(), Optional.empty(), DestinationTls.OPPORTUNISTIC, port, hostname, schedule, clock,
                Concurrency.SERIAL);
    }

    /**
     * How many messages are tried at once, and at most how many sessions go to one destination
     * (a domain, or the local store) at a time.
     */
    public record Concurrency(int workers, int perDestination) {
        public static final Concurrency SERIAL = new Concurrency(1, 1);

        public Concurrency {
            if (workers < 1 || perDestination < 1) {
                throw new IllegalArgumentException("delivery needs at least one worker and one session per destination");
            }
        }
    }

    /**
     * How a destination may ask for checked TLS to its MX hosts: DANE (RFC 7672, its signed TLSA
     * records), which takes precedence, and MTA-STS (RFC 8461, its policy over HTTPS).
     */
    public record DestinationTls(Optional<Dane> dane, Optional<MtaSts> mtaSts) {
        /** Neither: opportunistic STARTTLS everywhere (a test, or no resolver). */
        public static final DestinationTls OPPORTUNISTIC = new DestinationTls(Optional.empty(), Optional.empty());
    }

    /**
     * @param store the appliance's own store, for mail to its domains
     * @param relay the smarthost every other domain's mail goes to, instead of its MX hosts
     */
    public Deliverer(MailQueue queue, Router mx, SmtpClient smtp, Optional<LocalStore> store, Optional<Relay> relay,
                     DestinationTls destinationTls, int port, String hostname, RetrySchedule schedule, InstantSource clock,
                     Concurrency concurrency) {
        this.relay = relay;
        this.mtaSts = destinationTls.mtaSts();
        this.dane = destinationTls.dane();
        this.wayOut = new WayOut(relay);
        this.workers = Executors.newFixedThreadPool(concurrency.workers(), r -> {
            Thread t = new Thread(r, "delivery-worker");
            t.setDaemon(true);
            return t;
        });
        this.limit = new DestinationLimit(concurrency.perDestination());
        this.queue = queue;
        this.mx = mx;
        this.smtp = smtp;
        this.store = store;
        this.lmtp = SmtpClient.lmtp(hostname, Duration.ofMinutes(1));
        this.port = port;
        this.hostname = hostname;
        this.schedule = schedule;
        this.clock = clock;
    }

    /** What the latest connections out said, for hearth status. */
    public WayOut wayOut() {
        return wayOut;
    }

    /**
     * One pass over what is due now; returns how many messages were tried. A message whose attempt
     * fails (its files unreadable, a disk full for the notices) is given back untried and the pass
     * goes on; the first such failure is thrown at the end, for the service to report.
     */
    public int runOnce() throws IOException {
        List<Future<?>> attempts = startPass();
        IOException first = null;
        for (Future<?> attempt : attempts) {
            try {
                attempt.get();
            } catch (ExecutionException failed) {
                first = first != null ? first : (IOException) failed.getCause();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while messages were being delivered", interrupted);
            }
        }
        if (first != null) {
            throw first;
        }
        return attempts.size();
    }

    /**
     * Starts trying what is due now on the delivery workers and returns at once: a pass stuck on a
     * slow destination never holds back the next. Messages already being tried are not due, so
     * passes may overlap. A failed attempt is logged, and its future fails.
     */
    public List<Future<?>> startPass() throws IOException {
        List<Future<?>> attempts = new ArrayList<>();
        for (Envelope e : queue.due(clock.instant())) {
            attempts.add(workers.submit(() -> {
                try {
                    attempt(e);
                    return null;
                } catch (IOException | RuntimeException | InterruptedException failure) {
                    queue.release(e.id());
                    LOG.warn("event=delivery-failed id={} error={}", e.id(), failure.toString());
                    throw new IOException("delivery of " + e.id() + " failed: " + failure.getMessage(), failure);
                }
            }));
        }
        return attempts;
    }

    private void attempt(Envelope e) throws IOException, InterruptedException {
        Map<String, List<String>> byDomain = new LinkedHashMap<>();
        for (Envelope.Recipient r : e.pending()) {
            byDomain.computeIfAbsent(domainOf(r.address()), d -> new ArrayList<>()).add(r.address());
        }
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        long size = queue.size(e.id());
        SmtpClient.MessageSource source = new QueuedMessage(e.id());
        Set<String> local = Set.of();
        if (store.isPresent()) {
            try {
                local = store.get().domains();
            } catch (IOException unknown) {
                // Not knowing which domains are ours, sending any out could loop mail back: all wait.
                e.pending().forEach(r -> outcomes.put(r.address(), Outcome.deferred(
                        "the mail store cannot say which domains are local: " + unknown.getMessage())));
                byDomain.clear();
            }
        }
        List<String> toStore = new ArrayList<>();
        List<String> toRelay = new ArrayList<>();
        for (var entry : byDomain.entrySet()) {
            if (local.contains(entry.getKey())) {
                toStore.addAll(entry.getValue());
            } else if (relay.isPresent()) {
                toRelay.addAll(entry.getValue());
            } else {
                limit.acquire(entry.getKey());
                try {
                    outcomes.putAll(toDomain(entry.getKey(), entry.getValue(), e.sender(), size, source));
                } finally {
                    limit.release(entry.getKey());
                }
            }
        }
        if (!toRelay.isEmpty()) {
            // One destination: the relay's own concurrency limit, like any domain's.
            String destination = "[relay " + relay.get().name() + "]";
            limit.acquire(destination);
            try {
                outcomes.putAll(toRelay(relay.get(), toRelay, e.sender(), size, source));
            } finally {
                limit.release(destination);
            }
        }
        if (!toStore.isEmpty()) {
            limit.acquire(LOCAL_STORE);
            try {
                outcomes.putAll(lmtp.deliver(store.get().lmtp(), "the mail store", SmtpClient.Tls.NONE, e.sender(), toStore,
                        size, source).outcomes());
            } finally {
                limit.release(LOCAL_STORE);
            }
        }
        // Like Postfix's log: one line per recipient and attempt, the owner's first answer to "where is my mail?".
        outcomes.forEach((rcpt, o) -> LOG.info("event=delivery id={} to={} outcome={} detail=\"{}\"", e.id(), rcpt,
                o.state() == Envelope.State.PENDING ? "deferred" : o.state().name().toLowerCase(Locale.ROOT), o.reply().replace('"', '\'')));
        // Read before recording: a message whose recipients are all done leaves the queue then.
        byte[] headers = head(e.id());
        Instant now = clock.instant();
        // The notices are queued before the outcome is recorded: a crash between sends one twice, never none.
        queue.record(e.id(), outcomes, now, recorded -> {
            if (e.sender().isEmpty()) {
                return;
            }
            if (!recorded.failedNow().isEmpty()) {
                queue.enqueue("", List.of(e.sender()), new ByteArrayInputStream(
                        DeliveryStatusNotice.bounce(e, recorded.failedNow(), headers, hostname, now)), now);
            }
            if (recorded.delayWarning()) {
                queue.enqueue("", List.of(e.sender()), new ByteArrayInputStream(DeliveryStatusNotice.delay(e,
                        recorded.envelope().pending(), headers, hostname, now, e.created().plus(schedule.lifetime()))), now);
            }
        });
    }

    private Map<String, Outcome> toDomain(String domain, List<String> recipients, String sender, long size,
                                          SmtpClient.MessageSource source) {
        Map<String, Outcome> out = new LinkedHashMap<>();
        MxResolver.Route route = mx.route(domain);
        if (route instanceof MxResolver.Undeliverable u) {
            recipients.forEach(r -> out.put(r, Outcome.failed(u.reply())));
            return out;
        }
        if (route instanceof MxResolver.TryLater later) {
            recipients.forEach(r -> out.put(r, Outcome.deferred(later.reason())));
            return out;
        }
        List<MxResolver.Host> hosts = ((MxResolver.Hosts) route).hosts();
        Optional<MtaSts.Policy> policy = mtaSts.flatMap(m -> m.policy(domain)).filter(p -> p.mode() == MtaSts.Mode.ENFORCE);
        if (policy.isPresent()) {
            // RFC 8461 §5: only the MX hosts the policy names, each over TLS with a valid certificate; else wait.
            hosts = hosts.stream().filter(h -> policy.get().matches(h.name())).toList();
            if (hosts.isEmpty()) {
                String why = "no MX host of " + domain + " is one its MTA-STS policy names (mx: "
                        + String.join(", ", policy.get().mx()) + "); not delivering elsewhere";
                recipients.forEach(r -> out.put(r, Outcome.deferred(why)));
                return out;
            }
        }
        // RFC 7672 §2.2.1: TLSA records count only for MX hosts named by signed MX records, and
        // with signed ones only their hosts get the mail, whatever the plain answer said.
        Dane.Mx signedMx = dane.isPresent() ? dane.get().mx(domain) : new Dane.UnsignedMx();
        if (signedMx instanceof Dane.FailedMx failed) {
            recipients.forEach(r -> out.put(r, Outcome.deferred(failed.reason())));
            return out;
        }
        boolean daneDomain = signedMx instanceof Dane.SignedMx;
        if (signedMx instanceof Dane.SignedMx signed) {
            List<MxResolver.Host> unsigned = hosts;
            hosts = hosts.stream().filter(h -> signed.hosts().contains(Dane.hostName(h.name()))).toList();
            if (hosts.isEmpty()) {
                String why = "the MX hosts found for " + domain + " (" + String.join(", ", unsigned.stream()
                        .map(MxResolver.Host::name).toList()) + ") are not those its signed MX records name ("
                        + String.join(", ", signed.hosts()) + "); not delivering elsewhere";
                recipients.forEach(r -> out.put(r, Outcome.deferred(why)));
                return out;
            }
        }
        SmtpClient.Attempt last = null;
        for (MxResolver.Host host : hosts) {
            Dane.Tlsa tlsa = daneDomain ? dane.get().tlsa(host.name(), port) : new Dane.None();
            if (tlsa instanceof Dane.Failed failed) {
                // A TLSA answer that does not validate may be an attacker's: that host gets nothing now.
                Map<String, Outcome> waiting = new LinkedHashMap<>();
                recipients.forEach(r -> waiting.put(r, Outcome.deferred(failed.reason() + "; not delivering to " + host.name())));
                last = new SmtpClient.Attempt(waiting, true, false, false, Set.copyOf(recipients));
                continue;
            }
            for (InetAddress address : host.addresses()) {
                InetSocketAddress to = new InetSocketAddress(address, port);
                if (tlsa instanceof Dane.Records records) {
                    last = withReason(smtp.deliverWithDane(to, host.name(), Dane.context(records.usable(), host.name()), sender,
                            recipients, size, source), host.name() + " publishes TLSA records (DANE): only a certificate they match will do");
                } else if (policy.isPresent()) {
                    last = withReason(smtp.deliverWithCheckedTls(to, host.name(), mtaSts.get().tls(), sender, recipients, size,
                            source), domain + "'s MTA-STS policy asks for TLS with a valid certificate");
                } else {
                    last = smtp.deliver(to, host.name(), SmtpClient.Tls.OPPORTUNISTIC, sender, recipients, size, source);
                }
                if (last.tlsFailed()) {
                    // Opportunistic TLS (RFC 7435): a server whose TLS is broken still gets its mail, in plaintext.
                    last = smtp.deliver(to, host.name(), SmtpClient.Tls.NONE, sender, recipients, size, source);
                }
                wayOut.direct(last.connected(), (last.connected() ? "connected to " : "no answer from ") + host.name()
                        + " [" + address.getHostAddress() + "]:" + port + (last.connected() ? "" : ": " + firstReply(last)),
                        clock.instant());
                if (!last.sessionFailed()) {
                    return last.outcomes();
                }
            }
        }
        return last.outcomes();
    }

    /**
     * Everything for other domains to the smarthost, at each of its addresses until one answers. A
     * relay that cannot be reached, shows a wrong certificate or refuses the login defers the mail:
     * that is the owner's setting to fix, and the recipients' addresses are not to blame.
     */
    private Map<String, Outcome> toRelay(Relay r, List<String> recipients, String sender, long size,
                                         SmtpClient.MessageSource source) {
        Map<String, Outcome> out = new LinkedHashMap<>();
        Optional<SmtpClient.Login> login;
        javax.net.ssl.SSLContext tls;
        try {
            login = r.login();
            tls = r.tls();
        } catch (IOException notReady) {
            recipients.forEach(rcpt -> out.put(rcpt, Outcome.deferred("the relay " + r.name() + " cannot be used: " + notReady.getMessage())));
            wayOut.relayed(false, notReady.getMessage(), clock.instant());
            return out;
        }
        MxResolver.Route route = r.host().matches("\\d{1,3}(\\.\\d{1,3}){3}")
                ? new MxResolver.Hosts(List.of(new MxResolver.Host(r.host(), 0, List.of(literal(r.host())))))
                : mx.host(r.host());
        if (!(route instanceof MxResolver.Hosts hosts)) {
            String why = route instanceof MxResolver.TryLater later ? later.reason() : route.toString();
            recipients.forEach(rcpt -> out.put(rcpt, Outcome.deferred("the relay " + r.name() + " cannot be found: " + why)));
            wayOut.relayed(false, why, clock.instant());
            return out;
        }
        SmtpClient.Attempt last = null;
        for (InetAddress address : hosts.hosts().get(0).addresses()) {
            last = smtp.deliverToRelay(new InetSocketAddress(address, r.port()), r.host(), r.implicitTls(), tls, login,
                    sender, recipients, size, source);
            if (!last.sessionFailed()) {
                break;
            }
        }
        boolean anyTaken = last.outcomes().values().stream().anyMatch(o -> o.state() != Envelope.State.PENDING);
        wayOut.relayed(anyTaken, anyTaken ? "last message handed over" : firstReply(last), clock.instant());
        return last.outcomes();
    }

    /** Says in a deferral no server's reply decided why plaintext or an unchecked certificate was not enough. */
    private static SmtpClient.Attempt withReason(SmtpClient.Attempt attempt, String reason) {
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        attempt.outcomes().forEach((r, o) -> outcomes.put(r, attempt.withoutReply().contains(r)
                ? Outcome.deferred(o.reply() + " (" + reason + ")") : o));
        return new SmtpClient.Attempt(outcomes, attempt.sessionFailed(), attempt.tlsFailed(), attempt.connected(),
                attempt.withoutReply());
    }

    private static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (java.net.UnknownHostException notALiteral) {
            throw new IllegalArgumentException(address + " is not an address", notALiteral);
        }
    }

    private static String firstReply(SmtpClient.Attempt attempt) {
        return attempt.outcomes().values().stream().findFirst().map(Outcome::reply).orElse("");
    }

    /** The start of the message, for a notice's returned headers. */
    private byte[] head(String id) throws IOException {
        try (InputStream in = queue.message(id)) {
            return in.readNBytes(HEADER_BYTES);
        }
    }

    /** The recipient's domain as DNS names it: an internationalized one (SMTPUTF8) by its A-labels. */
    private static String domainOf(String address) {
        String comparable = Smtputf8.comparable(address);
        return comparable.substring(comparable.lastIndexOf('@') + 1);
    }

    private final class QueuedMessage implements SmtpClient.MessageSource {
        private final String id;
        private Boolean eightBit;

        QueuedMessage(String id) {
            this.id = id;
        }

        @Override
        public InputStream open() throws IOException {
            return queue.message(id);
        }

        @Override
        public boolean eightBit() throws IOException {
            if (eightBit == null) {
                eightBit = false;
                try (InputStream in = open()) {
                    byte[] buf = new byte[64 * 1024];
                    for (int n; !eightBit && (n = in.read(buf)) > 0; ) {
                        for (int i = 0; i < n && !eightBit; i++) {
                            eightBit = buf[i] < 0;
                        }
                    }
                }
            }
            return eightBit;
        }
    }
}
