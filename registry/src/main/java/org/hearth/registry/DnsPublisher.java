package org.hearth.registry;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Update;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Publishes the boxes' records in the registry's zone on its authoritative server (Knot here; any
 * server that takes RFC 2136 dynamic updates), each update signed with the registry's TSIG key
 * (RFC 8945). An update replaces whole RRsets, in one message, so the zone never shows half of a
 * change; a server that refuses says why in its rcode, which the error names.
 */
final class DnsPublisher {

    private final InetSocketAddress server;
    private final Name zone;
    private final TSIG key;

    DnsPublisher(InetSocketAddress server, String zone, TSIG key) throws TextParseException {
        this.server = server;
        this.zone = Name.fromString(zone.endsWith(".") ? zone : zone + ".");
        this.key = key;
    }

    Name zone() {
        return zone;
    }

    /**
     * Replaces whole RRsets of several names in one update (an empty list removes that set): all of
     * it happens, or none.
     */
    void publish(Map<String, Map<Integer, List<String>>> byLabel, long ttl) throws IOException {
        Update update = new Update(zone);
        Name first = zone;
        for (Map.Entry<String, Map<Integer, List<String>>> named : byLabel.entrySet()) {
            Name name = named.getKey().equals("@") ? zone : Name.fromString(named.getKey(), zone);
            first = name;
            for (Map.Entry<Integer, List<String>> set : named.getValue().entrySet()) {
                update.delete(name, set.getKey());
                for (String data : set.getValue()) {
                    update.add(Record.fromString(name, set.getKey(), DClass.IN, ttl, data, zone));
                }
            }
        }
        send(update, first);
    }

    private void send(Update update, Name name) throws IOException {
        SimpleResolver resolver = new SimpleResolver(server);
        resolver.setTSIGKey(key);
        resolver.setTCP(true);
        resolver.setTimeout(Duration.ofSeconds(10));
        Message answer = resolver.send(update);
        if (answer.getRcode() != Rcode.NOERROR) {
            throw new IOException("the DNS server at " + server.getHostString() + ":" + server.getPort() + " refused the update of "
                    + name + ": " + Rcode.string(answer.getRcode()));
        }
        if (answer.getTSIG() == null || !answer.isVerified()) {
            throw new IOException("the DNS server's answer to the update of " + name + " is not signed with the registry's key");
        }
    }
}
