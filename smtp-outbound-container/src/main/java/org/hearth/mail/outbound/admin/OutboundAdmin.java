package org.hearth.mail.outbound.admin;

import org.hearth.mail.outbound.dkim.DkimKey;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.dns.MailDnsRecords;
import org.hearth.mail.outbound.queue.Envelope;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.ShortDuration;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The owner's commands for the outbound side ({@code hearth mail dns|dkim|queue}), carried out by
 * the running service itself: it holds the queue's lock and signs with the keys, so a second
 * process must not touch either. Each command returns the text to print; a refusal is an
 * {@link IllegalArgumentException} whose message says what to do.
 */
public final class OutboundAdmin {

    static final String USAGE = "dns DOMAIN | dkim list|rotate DOMAIN | dkim activate DOMAIN [--unchecked]"
            + " | queue list | queue retry ID|all | queue delete ID";

    private final MailQueue queue;
    private final DkimKeys keys;
    private final String mxHost;
    private final String privateHost;
    private final MailDnsRecords.Ports clientPorts;
    private final Optional<Resolver> resolver;
    private final InstantSource clock;

    /**
     * @param clientPorts where the owner's clients reach IMAPS and submission on {@code privateHost}: what the SRV records say
     * @param resolver    the appliance's resolver, to check a new key is in DNS before it signs; empty when none is configured
     */
    public OutboundAdmin(MailQueue queue, DkimKeys keys, String mxHost, String privateHost, MailDnsRecords.Ports clientPorts,
                         Optional<Resolver> resolver, InstantSource clock) {
        this.queue = queue;
        this.keys = keys;
        this.mxHost = mxHost;
        this.privateHost = privateHost;
        this.clientPorts = clientPorts;
        this.resolver = resolver;
        this.clock = clock;
    }

    public String run(List<String> args) throws IOException {
        String command = String.join(" ", args.subList(0, Math.min(2, args.size())));
        return switch (command) {
            case "dkim list" -> dkimList(domainArg(args, 2));
            case "dkim rotate" -> dkimRotate(domainArg(args, 2));
            case "dkim activate" -> dkimActivate(domainArg(args, 2), args.contains("--unchecked"));
            case "queue list" -> queueList();
            case "queue retry" -> queueRetry(arg(args, 2, "ID or all"));
            case "queue delete" -> queueDelete(arg(args, 2, "ID"));
            default -> {
                if (!args.isEmpty() && args.get(0).equals("dns")) {
                    yield dns(domainArg(args, 1));
                }
                throw new IllegalArgumentException("usage: hearth mail " + USAGE);
            }
        };
    }

    /** Every record the domain needs; the domain gets its keys now if it has none, so they can be published first. */
    private String dns(String domain) throws IOException {
        if (keys.active(domain).isEmpty()) {
            keys.rotate(domain, today());
        }
        MailDnsRecords records = new MailDnsRecords(domain, mxHost, privateHost, clientPorts,
                keys.published(domain), "postmaster@" + domain, policyId());
        StringBuilder out = new StringBuilder("; DNS records for " + domain + " (zone file lines). Also needed: A/AAAA"
                + " records for " + mxHost + " (the public address) and " + privateHost + " (the overlay address).\n");
        records.zoneLines().forEach(l -> out.append(l).append('\n'));
        return out.toString();
    }

    private String dkimList(String domain) throws IOException {
        List<String> active = keys.active(domain).stream().map(DkimKey::selector).toList();
        List<DkimKey> published = keys.published(domain);
        if (published.isEmpty()) {
            return "No DKIM keys for " + domain + " yet (they are made with its first message, or by hearth mail dns "
                    + domain + ").\n";
        }
        StringBuilder out = new StringBuilder();
        for (DkimKey k : published) {
            out.append(String.format("%-20s %-16s %s%n", k.selector(), k.algorithm().signatureName(),
                    active.contains(k.selector()) ? "signing" : "published, not signing"));
        }
        return out.toString();
    }

    /** New keys, published but not signing: DNS must carry them before they sign, or receivers fail the mail. */
    private String dkimRotate(String domain) throws IOException {
        List<DkimKey> made = keys.prepare(domain, today());
        StringBuilder out = new StringBuilder("New DKIM keys for " + domain + "; they do not sign yet. Publish:\n");
        made.forEach(k -> out.append(k.zoneLine()).append('\n'));
        out.append("then: hearth mail dkim activate ").append(domain)
                .append(" (it checks the records first). The current keys keep signing until then.\n");
        return out.toString();
    }

    private String dkimActivate(String domain, boolean unchecked) throws IOException {
        List<String> active = keys.active(domain).stream().map(DkimKey::selector).toList();
        // The newest key of each algorithm: what the last rotation made.
        List<DkimKey> newest = new ArrayList<>();
        for (DkimKey k : keys.published(domain)) {
            if (newest.stream().noneMatch(n -> n.algorithm() == k.algorithm())) {
                newest.add(k);
            }
        }
        if (newest.isEmpty() || newest.stream().allMatch(k -> active.contains(k.selector()))) {
            throw new IllegalArgumentException("no new DKIM keys for " + domain + " to activate (hearth mail dkim rotate "
                    + domain + " makes them)");
        }
        if (!unchecked) {
            for (DkimKey k : newest) {
                checkPublished(k);
            }
        }
        keys.activate(domain, newest.stream().map(DkimKey::selector).toList());
        return "Now signing " + domain + "'s mail with " + String.join(" and ", newest.stream().map(DkimKey::selector).toList())
                + (unchecked ? " (DNS not checked)" : " (found in DNS)") + ". Keep the old records published for a week:"
                + " mail signed with them may still be on its way.\n";
    }

    private void checkPublished(DkimKey k) throws IOException {
        if (resolver.isEmpty()) {
            throw new IllegalArgumentException("cannot check DNS for " + k.dnsName() + ": no resolver is configured"
                    + " (appliance.yaml egress.resolver); publish the record and add --unchecked");
        }
        try {
            Lookup lookup = new Lookup(k.dnsName(), Type.TXT);
            lookup.setResolver(resolver.get());
            lookup.setCache(null);
            Record[] found = lookup.run();
            String want = k.txtValue().replace(" ", "");
            if (found != null) {
                for (Record r : found) {
                    if (String.join("", ((TXTRecord) r).getStrings()).replace(" ", "").equals(want)) {
                        return;
                    }
                }
            }
            throw new IllegalArgumentException(k.dnsName() + " does not publish the new key yet (" + lookup.getErrorString()
                    + "); publish it (hearth mail dkim list " + k.domain() + ") and try again");
        } catch (org.xbill.DNS.TextParseException e) {
            throw new IllegalArgumentException("not a DNS name: " + k.dnsName());
        }
    }

    private String queueList() throws IOException {
        List<Envelope> all = queue.list();
        if (all.isEmpty()) {
            return "The queue is empty.\n";
        }
        Instant now = clock.instant();
        StringBuilder out = new StringBuilder();
        for (Envelope e : all) {
            out.append(String.format("%s  %s old, %d bytes, from <%s>, attempts %d, next %s%n", e.id(),
                    ShortDuration.of(Duration.between(e.created(), now)), queue.size(e.id()), e.sender(), e.attempts(),
                    e.nextAttempt().isAfter(now) ? "in " + ShortDuration.of(Duration.between(now, e.nextAttempt())) : "now"));
            for (Envelope.Recipient r : e.pending()) {
                out.append("    <").append(r.address()).append(">  ")
                        .append(r.lastReply() == null || r.lastReply().isEmpty() ? "not tried yet" : r.lastReply()).append('\n');
            }
        }
        out.append(all.size()).append(all.size() == 1 ? " message" : " messages").append(" queued.\n");
        return out.toString();
    }

    private String queueRetry(String which) throws IOException {
        Instant now = clock.instant();
        if (which.equals("all")) {
            int n = 0;
            for (Envelope e : queue.list()) {
                n += queue.retryNow(e.id(), now) ? 1 : 0;
            }
            return n + (n == 1 ? " message" : " messages") + " will be tried at once.\n";
        }
        if (!queue.retryNow(which, now)) {
            throw new IllegalArgumentException("no queued message " + which + " (hearth mail queue list)");
        }
        return which + " will be tried at once.\n";
    }

    private String queueDelete(String id) throws IOException {
        if (!queue.delete(id)) {
            boolean queued = queue.list().stream().anyMatch(e -> e.id().equals(id));
            throw new IllegalArgumentException(queued ? id + " is being delivered right now; try again in a minute"
                    : "no queued message " + id + " (hearth mail queue list)");
        }
        return id + " deleted; its sender is not told.\n";
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

    /** The MTA-STS policy changes only with the MX host (its mode is fixed until ACME): its id follows it. */
    private String policyId() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(mxHost.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String domainArg(List<String> args, int index) {
        return arg(args, index, "DOMAIN").toLowerCase(Locale.ROOT);
    }

    private static String arg(List<String> args, int index, String what) {
        if (args.size() <= index || args.get(index).startsWith("--")) {
            throw new IllegalArgumentException("missing " + what + " (usage: hearth mail " + USAGE + ")");
        }
        return args.get(index);
    }
}
