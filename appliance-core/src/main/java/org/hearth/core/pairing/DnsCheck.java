package org.hearth.core.pairing;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Whether what the box published is what the zone's authoritative servers answer (like
 * Mail-in-a-Box's status checks): each record set asked of every server the registry named, and
 * compared, after both sides are read as DNS data, with what the box published; one server wrong
 * or silent is a finding. Asking the
 * authoritative servers, not a resolver, shows what is published now, without caches in between.
 */
public final class DnsCheck {

    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    private DnsCheck() {
    }

    /** One record set: as published, or what is missing or wrong about it. */
    public record Finding(String name, String type, boolean ok, String problem) {
    }

    /** Every published record set, in the order published; a server that cannot be asked is a finding too. */
    public static List<Finding> check(PairingState.Published published) {
        Map<String, List<String>> sets = new LinkedHashMap<>();
        for (Map<String, String> r : published.records()) {
            String owner = r.get("owner");
            String name = (owner.equals("@") ? "" : owner + ".") + published.domain() + ".";
            sets.computeIfAbsent(name + " " + r.get("type").toUpperCase(), k -> new ArrayList<>()).add(r.get("data"));
        }
        List<Finding> findings = new ArrayList<>();
        for (Map.Entry<String, List<String>> set : sets.entrySet()) {
            String[] key = set.getKey().split(" ");
            findings.add(checkSet(published.nameservers(), key[0], key[1], set.getValue()));
        }
        return findings;
    }

    /** One record set ({@code name} absolute, with its final dot) asked of {@code servers} and compared with {@code data}. */
    public static Finding checkSet(List<String> servers, String name, String type, List<String> data) {
        int code = Type.value(type);
        TreeSet<String> expected = new TreeSet<>();
        try {
            Name owner = Name.fromString(name);
            for (String d : data) {
                expected.add(Record.fromString(owner, code, DClass.IN, 3600, d, Name.root).rdataToString());
            }
        } catch (IOException e) {
            return new Finding(name, type, false, "the box's own record does not parse: " + e.getMessage());
        }
        // Every server: a secondary that missed an update answers senders (and the CA) as wrongly as a primary.
        List<String> problems = new ArrayList<>();
        boolean anyAnswered = false;
        for (String server : servers) {
            try {
                int colon = server.lastIndexOf(':');
                SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(server.substring(0, colon),
                        Integer.parseInt(server.substring(colon + 1))));
                resolver.setTimeout(TIMEOUT);
                Message answer = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), code, DClass.IN)));
                if (answer.getRcode() != Rcode.NOERROR && answer.getRcode() != Rcode.NXDOMAIN) {
                    problems.add(server + " answered " + Rcode.string(answer.getRcode()));
                    continue;
                }
                anyAnswered = true;
                TreeSet<String> found = new TreeSet<>();
                answer.getSection(Section.ANSWER).stream().filter(r -> r.getType() == code)
                        .forEach(r -> found.add(r.rdataToString()));
                if (!found.equals(expected)) {
                    problems.add(found.isEmpty() ? "MISSING at " + server + ": expected " + expected
                            : "WRONG at " + server + ": expected " + expected + ", found " + found);
                }
            } catch (TextParseException | NumberFormatException | StringIndexOutOfBoundsException e) {
                problems.add("\"" + server + "\" is not a name server's host:port");
            } catch (IOException e) {
                problems.add(server + " did not answer (" + e.getMessage() + ")");
            }
        }
        if (servers.isEmpty()) {
            return new Finding(name, type, false, "cannot check: no name server to ask");
        }
        if (problems.isEmpty()) {
            return new Finding(name, type, true, "");
        }
        return new Finding(name, type, false, (anyAnswered ? "" : "cannot check: ") + String.join("; ", problems));
    }
}
