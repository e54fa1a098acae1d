package org.hearth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.registry.protocol.SignedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the registry does, apart from HTTP: names checked and claimed, a box's addresses published.
 * Every answer is a status and a JSON body; a refusal's body says what was wrong ("error") so the
 * owner's app can show it.
 */
final class Registry {

    private static final Logger LOG = LoggerFactory.getLogger(Registry.class);
    /** A signed request older or newer than this (the box's clock against ours) is refused. */
    static final Duration SKEW = Duration.ofMinutes(5);
    private static final long TTL = 300;

    record Answer(int status, Map<String, Object> body) {
        static Answer error(int status, String error) {
            return new Answer(status, Map.of("error", error));
        }
    }

    /** The parts of a signed request: who signed it (for a claim, the key travels in the body), when, and the signature. */
    record Signed(long millis, String signature) {
    }

    private final RegistryStore store;
    private final DnsPublisher dns;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final RateLimit claims;
    private final RateLimit lookups;
    private final PublicAddresses publicAddresses;

    Registry(RegistryStore store, DnsPublisher dns, Clock clock, RateLimit claims, RateLimit lookups,
             PublicAddresses publicAddresses) {
        this.store = store;
        this.dns = dns;
        this.clock = clock;
        this.claims = claims;
        this.lookups = lookups;
        this.publicAddresses = publicAddresses;
    }

    String fqdn(String name) {
        return name + "." + dns.zone().toString(true);
    }

    /** Whether {@code name} can be had: the live check as the owner types. */
    Answer availability(String name, String client) throws SQLException {
        if (!lookups.allow(client, clock.instant())) {
            return Answer.error(429, "too many lookups from this address; try again in a minute");
        }
        Optional<String> refusal = NamePolicy.refusal(name);
        if (refusal.isPresent()) {
            return new Answer(200, body("name", name, "available", false, "reason", refusal.get()));
        }
        boolean taken = store.owner(name).isPresent();
        return new Answer(200, body("name", name, "available", !taken, "reason", taken ? "taken" : ""));
    }

    /**
     * A box claims {@code name} with its public key (body: {"publicKey": ...}), signing the request
     * with that key: the name is the box's from then on, and only that key may change its records.
     */
    Answer claim(String name, byte[] body, Signed signed, String client) throws SQLException {
        if (!claims.allow(client, clock.instant())) {
            return Answer.error(429, "too many names claimed from this address; try again later");
        }
        Optional<String> refusal = NamePolicy.refusal(name);
        if (refusal.isPresent()) {
            return Answer.error(400, refusal.get());
        }
        BoxKey key;
        try {
            key = BoxKey.parse(parse(body).path("publicKey").asText(""));
        } catch (IllegalArgumentException e) {
            return Answer.error(400, e.getMessage());
        }
        Optional<Answer> bad = checkSignature(key, "POST", "/v1/names/" + name, body, signed);
        if (bad.isPresent()) {
            return bad.get();
        }
        return switch (store.claim(name, key.id(), key.encoded(), signed.millis(), clock.instant())) {
            case NAME_TAKEN -> Answer.error(409, "\"" + name + "\" is taken");
            case BOX_HAS_A_NAME -> Answer.error(409, "this box has a name already: " + fqdn(store.nameOf(key.id()).orElse("?")));
            case CLAIMED -> {
                LOG.info("event=claimed name={} box={} client={}", name, key.id(), client);
                yield new Answer(201, body("name", name, "fqdn", fqdn(name), "box", key.id()));
            }
        };
    }

    /** Most hosts under a box's name that carry its addresses. */
    private static final int MAX_ADDRESS_HOSTS = 8;

    /**
     * The box's public addresses, published as A and AAAA records at each of its address hosts. Body:
     * {@code {"addresses": [...]}}, or {@code {"fromRequest": true}} for the address this request
     * came from (a box behind NAT does not know its own); and {@code "hosts"}, the owners under the
     * box's name that carry them ({@code ["@", "mx"]}: the name and its mail exchanger, which an MX
     * record may not reach through a CNAME; default {@code ["@"]}). Hosts it no longer names lose them.
     */
    // Signed changes take turns (synchronized): an older request can never land after a newer one,
    // and each publication sees the one before it finished. A registry's traffic is small.
    synchronized Answer addresses(String boxId, byte[] body, Signed signed, String client) throws SQLException, IOException {
        Optional<String> name = store.nameOf(boxId);
        Optional<Answer> refused = checkBox(boxId, name, "/v1/boxes/" + boxId + "/addresses", body, signed);
        if (refused.isPresent()) {
            return refused.get();
        }
        JsonNode request = parse(body);
        List<String> given = new ArrayList<>();
        if (request.path("fromRequest").asBoolean(false)) {
            if (request.has("addresses")) {
                return Answer.error(400, "give addresses or fromRequest, not both");
            }
            given.add(client);
        } else {
            JsonNode list = request.path("addresses");
            if (!list.isArray() || list.isEmpty() || list.size() > 8) {
                return Answer.error(400, "addresses must be a list of 1 to 8 addresses (or fromRequest: true)");
            }
            list.forEach(a -> given.add(a.asText("")));
        }
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (String a : given) {
            Optional<InetAddress> address = publicAddresses.parse(a);
            if (address.isEmpty()) {
                return Answer.error(400, "\"" + a + "\" is not a public IPv4 or IPv6 address"
                        + (request.path("fromRequest").asBoolean(false) ? " (the address this request came from)" : ""));
            }
            (address.get() instanceof Inet4Address ? v4 : v6).add(address.get().getHostAddress());
        }
        Set<String> hosts = new java.util.TreeSet<>();
        JsonNode hostList = request.path("hosts");
        if (hostList.isMissingNode()) {
            hosts.add("@");
        } else if (!hostList.isArray() || hostList.isEmpty() || hostList.size() > MAX_ADDRESS_HOSTS) {
            return Answer.error(400, "hosts must be a list of 1 to " + MAX_ADDRESS_HOSTS + " owners under the box's name");
        }
        for (JsonNode h : hostList) {
            String host = h.asText("").toLowerCase(java.util.Locale.ROOT);
            if (!OWNER.matcher(host).matches() || host.length() > 200) {
                return Answer.error(400, "host \"" + host + "\": must be \"@\" or labels under the box's name");
            }
            if (store.records(boxId).stream().anyMatch(r -> r.owner().equals(host) && r.type().equals("CNAME"))) {
                return Answer.error(400, "host \"" + host + "\" is a CNAME of the box's, so it cannot have addresses");
            }
            if (store.records(boxId).stream().anyMatch(r -> r.owner().equals(host) && (r.type().equals("A") || r.type().equals("AAAA")))) {
                return Answer.error(400, "host \"" + host + "\" carries the box's private address (through /records)");
            }
            hosts.add(host);
        }
        if (!store.acceptSigned(boxId, signed.millis())) {
            return Answer.error(409, "a request signed at or before this one was taken already (a replay, or a clock gone back)");
        }
        Map<String, Map<Integer, List<String>>> rrsets = new LinkedHashMap<>();
        List<String> before = store.addressHosts(boxId);
        for (String host : before) {
            rrsets.put(label(host, name.get()), Map.of(org.xbill.DNS.Type.A, List.of(), org.xbill.DNS.Type.AAAA, List.of()));
        }
        for (String host : hosts) {
            rrsets.put(label(host, name.get()), Map.of(org.xbill.DNS.Type.A, v4, org.xbill.DNS.Type.AAAA, v6));
        }
        // Recorded first as old and new together, so a failure midway still leaves every host known.
        Set<String> both = new java.util.TreeSet<>(before);
        both.addAll(hosts);
        store.addressHosts(boxId, both);
        dns.publish(rrsets, TTL);
        store.addressHosts(boxId, hosts);
        List<String> all = new ArrayList<>(v4);
        all.addAll(v6);
        store.addresses(boxId, all, clock.instant());
        LOG.info("event=addresses name={} box={} addresses={} hosts={}", name.get(), boxId, all, hosts);
        return new Answer(200, body("name", name.get(), "fqdn", fqdn(name.get()), "addresses", all, "hosts", List.copyOf(hosts)));
    }

    /** Types a box may publish under its name besides its addresses (A and AAAA: private networks' only). */
    private static final Set<String> RECORD_TYPES = Set.of("MX", "TXT", "SRV", "CNAME", "CAA", "TLSA", "A", "AAAA");
    private static final Pattern OWNER = Pattern.compile("@|(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
            + "(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    private static final int MAX_RECORDS = 64;
    /** A record's presentation data, at most (eight 255-byte TXT strings, quoted, fit). */
    static final int MAX_DATA = 2100;

    /**
     * The box's records besides its addresses (body: {"records": [{"owner", "type", "data"}]}): MX,
     * SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, autoconfig, an ACME DNS-01 challenge, and the address
     * in a private network (its overlay's) of a host only the owner's devices reach, so that their
     * mail clients connect by the name its certificate carries. Such an address points no one
     * anywhere on the internet; a public one goes through /addresses, which checks it. Owners are
     * relative to the box's name ("@" for the name itself, "_dmarc", "sel._domainkey"), so a box can
     * never write outside it. The set replaces the last one: record sets it no longer names go.
     */
    synchronized Answer records(String boxId, byte[] body, Signed signed) throws SQLException, IOException {
        Optional<String> name = store.nameOf(boxId);
        Optional<Answer> refused = checkBox(boxId, name, "/v1/boxes/" + boxId + "/records", body, signed);
        if (refused.isPresent()) {
            return refused.get();
        }
        JsonNode list = parse(body).path("records");
        if (!list.isArray() || list.size() > MAX_RECORDS) {
            return Answer.error(400, "records must be a list of at most " + MAX_RECORDS + " records");
        }
        org.xbill.DNS.Name origin = org.xbill.DNS.Name.fromString(fqdn(name.get()) + ".");
        List<RegistryStore.BoxRecord> records = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode r = list.get(i);
            String owner = r.path("owner").asText("").toLowerCase(java.util.Locale.ROOT);
            String type = r.path("type").asText("").toUpperCase(java.util.Locale.ROOT);
            String data = r.path("data").asText("");
            String where = "record " + (i + 1) + " (" + owner + " " + type + ")";
            if (!OWNER.matcher(owner).matches() || owner.length() > 200) {
                return Answer.error(400, where + ": owner must be \"@\" or labels under the box's name");
            }
            if (!RECORD_TYPES.contains(type)) {
                return Answer.error(400, where + ": a box may publish " + String.join(", ", new java.util.TreeSet<>(RECORD_TYPES))
                        + " records (its addresses through /addresses)");
            }
            if (type.equals("CNAME") && (owner.equals("@") || store.addressHosts(boxId).contains(owner))) {
                return Answer.error(400, where + ": " + (owner.equals("@") ? "the box's name" : owner)
                        + " has the box's addresses, so it cannot be a CNAME");
            }
            if (type.equals("A") || type.equals("AAAA")) {
                if (owner.equals("@") || store.addressHosts(boxId).contains(owner)) {
                    return Answer.error(400, where + ": " + (owner.equals("@") ? "the box's name" : owner)
                            + " carries the box's public addresses (through /addresses)");
                }
                if (!org.hearth.registry.protocol.PrivateNetworks.contains(data) || data.contains(":") == type.equals("A")) {
                    return Answer.error(400, where + ": \"" + data + "\" is no " + (type.equals("A") ? "IPv4" : "IPv6")
                            + " address in a private network (10/8, 100.64/10, 172.16/12, 192.168/16, fc00::/7);"
                            + " the box's public addresses go through /addresses");
                }
            }
            if (data.length() > MAX_DATA) {
                return Answer.error(400, where + ": data longer than " + MAX_DATA + " characters");
            }
            try {
                org.xbill.DNS.Name.fromString(label(owner, name.get()), dns.zone());
            } catch (IOException e) {
                return Answer.error(400, where + ": the full name is too long for DNS");
            }
            try {
                org.xbill.DNS.Record.fromString(org.xbill.DNS.Name.root, org.xbill.DNS.Type.value(type), org.xbill.DNS.DClass.IN,
                        TTL, data, origin);
            } catch (IOException | RuntimeException e) {
                return Answer.error(400, where + ": " + e.getMessage());
            }
            records.add(new RegistryStore.BoxRecord(owner, type, data));
        }
        // A CNAME stands alone at its owner (RFC 1034 §3.6.2): the server would drop the rest silently.
        for (RegistryStore.BoxRecord r : records) {
            if (r.type().equals("CNAME") && records.stream().anyMatch(o -> o != r && o.owner().equals(r.owner()))) {
                return Answer.error(400, "record " + (records.indexOf(r) + 1) + " (" + r.owner()
                        + " CNAME): a CNAME cannot share its owner with another record");
            }
        }
        if (!store.acceptSigned(boxId, signed.millis())) {
            return Answer.error(409, "a request signed at or before this one was taken already (a replay, or a clock gone back)");
        }
        Map<String, Map<Integer, List<String>>> rrsets = new LinkedHashMap<>();
        for (RegistryStore.BoxRecord old : store.records(boxId)) {
            rrsets.computeIfAbsent(label(old.owner(), name.get()), k -> new LinkedHashMap<>())
                    .put(org.xbill.DNS.Type.value(old.type()), new ArrayList<>());
        }
        for (RegistryStore.BoxRecord r : records) {
            rrsets.computeIfAbsent(label(r.owner(), name.get()), k -> new LinkedHashMap<>())
                    .computeIfAbsent(org.xbill.DNS.Type.value(r.type()), k -> new ArrayList<>()).add(absolute(r.data(), r.type(), origin));
        }
        // Recorded first as old and new together, so if the update or this store fails midway the next
        // publication still removes every record set either may have left in the zone.
        List<RegistryStore.BoxRecord> both = new ArrayList<>(store.records(boxId));
        both.addAll(records);
        store.records(boxId, both);
        dns.publish(rrsets, TTL);
        store.records(boxId, records);
        LOG.info("event=records name={} box={} count={}", name.get(), boxId, records.size());
        return new Answer(200, body("name", name.get(), "records", records.size()));
    }

    /** The record's owner relative to the zone. */
    private static String label(String owner, String name) {
        return owner.equals("@") ? name : owner + "." + name;
    }

    /** The data with names made absolute against the box's name, as the box meant them. */
    private static String absolute(String data, String type, org.xbill.DNS.Name origin) throws IOException {
        return org.xbill.DNS.Record.fromString(org.xbill.DNS.Name.root, org.xbill.DNS.Type.value(type), org.xbill.DNS.DClass.IN,
                TTL, data, origin).rdataToString();
    }

    /** A refusal unless the box exists, has a name, and signed this PUT with its key. */
    private Optional<Answer> checkBox(String boxId, Optional<String> name, String path, byte[] body, Signed signed)
            throws SQLException {
        Optional<RegistryStore.Box> box = store.box(boxId);
        if (box.isEmpty() || name.isEmpty()) {
            return Optional.of(Answer.error(404, "no box " + boxId));
        }
        return checkSignature(BoxKey.parse(box.get().publicKey()), "PUT", path, body, signed);
    }

    private Optional<Answer> checkSignature(BoxKey key, String method, String path, byte[] body, Signed signed) {
        long now = clock.millis();
        if (Math.abs(now - signed.millis()) > SKEW.toMillis()) {
            return Optional.of(Answer.error(401, "the request's time is more than 5 minutes from the registry's: "
                    + "set the box's clock"));
        }
        if (!key.verifies(SignedRequest.text(dns.zone().toString(true), method, path, signed.millis(), body), signed.signature())) {
            return Optional.of(Answer.error(401, "the signature does not match this box's key"));
        }
        return Optional.empty();
    }

    private JsonNode parse(byte[] body) {
        try {
            return json.readTree(body);
        } catch (IOException e) {
            return json.createObjectNode();
        }
    }

    private static Map<String, Object> body(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
