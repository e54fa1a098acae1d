package org.hearth.mail.outbound.delivery;

import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where mail for a domain goes (RFC 5321 §5.1), asked of the resolver the appliance runs: its MX
 * hosts by preference (shuffled among equals, so load spreads), each with its IPv6 then IPv4
 * addresses; without MX records the domain itself (the implicit MX). A null MX (RFC 7505) or a
 * domain that does not exist fails at once; a DNS failure means try later, never a bounce.
 */
public final class MxResolver implements Router {

    /** The answer for one domain. */
    public sealed interface Route {
    }

    /** Hosts to try in order; each has at least one address. */
    public record Hosts(List<Host> hosts) implements Route {
    }

    /** Mail for this domain can never be delivered: the reply for the sender's bounce. */
    public record Undeliverable(String reply) implements Route {
    }

    /** The answer could not be had now (SERVFAIL, a timeout, MX hosts without addresses yet). */
    public record TryLater(String reason) implements Route {
    }

    public record Host(String name, int preference, List<InetAddress> addresses) {
    }

    private final Resolver resolver;

    public MxResolver(Resolver resolver) {
        this.resolver = resolver;
    }

    @Override
    public Route route(String domain) {
        Name name;
        try {
            name = Name.fromString(domain.endsWith(".") ? domain : domain + ".");
        } catch (TextParseException e) {
            return new Undeliverable("553 5.1.3 " + domain + " is not a valid domain name");
        }
        Lookup mx = lookup(name, Type.MX);
        return switch (mx.getResult()) {
            case Lookup.SUCCESSFUL -> fromMx(domain, mx.getAnswers());
            // No MX: the domain itself, if it has an address (RFC 5321 §5.1).
            case Lookup.TYPE_NOT_FOUND -> implicit(domain, name);
            case Lookup.HOST_NOT_FOUND -> new Undeliverable("550 5.1.2 " + domain + " does not exist (DNS: no such domain)");
            default -> new TryLater("DNS lookup of MX " + domain + " failed: " + mx.getErrorString());
        };
    }

    @Override
    public Route host(String host) {
        try {
            Addresses addresses = addresses(Name.fromString(host.endsWith(".") ? host : host + "."));
            if (!addresses.found().isEmpty()) {
                return new Hosts(List.of(new Host(host, 0, addresses.found())));
            }
            return new TryLater(addresses.failure() == null ? host + " has no address in DNS"
                    : "DNS lookup of " + host + " failed: " + addresses.failure());
        } catch (TextParseException e) {
            return new TryLater(host + " is not a valid host name");
        }
    }

    private Route fromMx(String domain, Record[] answers) {
        Map<Integer, List<Name>> byPreference = new TreeMap<>();
        for (Record r : answers) {
            if (r instanceof MXRecord m) {
                byPreference.computeIfAbsent(m.getPriority(), k -> new ArrayList<>()).add(m.getTarget());
            }
        }
        // RFC 7505: a single MX of "." says the domain accepts no mail.
        if (byPreference.size() == 1 && byPreference.values().iterator().next().size() == 1
                && byPreference.values().iterator().next().get(0).equals(Name.root)) {
            return new Undeliverable("556 5.1.10 " + domain + " accepts no mail (null MX)");
        }
        List<Host> hosts = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        for (var entry : byPreference.entrySet()) {
            List<Name> same = new ArrayList<>(entry.getValue());
            Collections.shuffle(same, ThreadLocalRandom.current());
            for (Name target : same) {
                if (target.equals(Name.root)) {
                    continue;
                }
                Addresses addresses = addresses(target);
                if (addresses.found().isEmpty()) {
                    unresolved.add(target.toString(true));
                } else {
                    hosts.add(new Host(target.toString(true), entry.getKey(), addresses.found()));
                }
            }
        }
        if (hosts.isEmpty()) {
            return new TryLater("no address for the MX hosts of " + domain + ": " + String.join(", ", unresolved));
        }
        hosts.sort(Comparator.comparingInt(Host::preference));
        return new Hosts(List.copyOf(hosts));
    }

    private Route implicit(String domain, Name name) {
        Addresses addresses = addresses(name);
        if (!addresses.found().isEmpty()) {
            return new Hosts(List.of(new Host(domain, 0, addresses.found())));
        }
        // A bounce only when DNS said there is nothing; a failed lookup may answer next time.
        return addresses.failure() == null
                ? new Undeliverable("550 5.1.2 " + domain + " has neither MX records nor an address")
                : new TryLater("DNS lookup of " + domain + " failed: " + addresses.failure());
    }

    /** A host's addresses, and why a lookup failed (null when both answered, with or without records). */
    private record Addresses(List<InetAddress> found, String failure) {
    }

    /** IPv6 addresses first, then IPv4. */
    private Addresses addresses(Name host) {
        List<InetAddress> out = new ArrayList<>();
        String failure = null;
        for (int type : new int[]{Type.AAAA, Type.A}) {
            Lookup l = lookup(host, type);
            switch (l.getResult()) {
                case Lookup.SUCCESSFUL -> {
                    for (Record r : l.getAnswers()) {
                        if (r instanceof AAAARecord a) {
                            out.add(a.getAddress());
                        } else if (r instanceof ARecord a) {
                            out.add(a.getAddress());
                        }
                    }
                }
                case Lookup.TYPE_NOT_FOUND, Lookup.HOST_NOT_FOUND -> {
                    // an answer: no such records
                }
                default -> failure = Type.string(type) + " " + l.getErrorString();
            }
        }
        return new Addresses(List.copyOf(out), failure);
    }

    private Lookup lookup(Name name, int type) {
        Lookup l = new Lookup(name, type);
        l.setResolver(resolver);
        // dnsjava's own cache is off: the service hands in a CachingResolver, which also serves DANE's validator.
        l.setCache(null);
        l.setSearchPath((Name[]) null);
        l.run();
        return l;
    }
}
