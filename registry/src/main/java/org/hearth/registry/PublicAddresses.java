package org.hearth.registry;

import org.hearth.registry.protocol.PrivateNetworks;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which addresses a box may publish for its name: literal public unicast addresses only. Refused are
 * IANA's special-purpose blocks (RFC 6890 and its registries): private, shared (CGNAT, which overlay
 * networks also use), loopback, link-local, documentation, benchmarking, multicast and reserved
 * space, IPv4 wrapped in IPv6 (mapped, NAT64, 6to4, Teredo) and unique-local IPv6. A test world that
 * plays the internet in the benchmarking and documentation blocks (198.18.0.0/15, 2001:db8::/32) may
 * allow those two.
 */
final class PublicAddresses {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
    private static final List<String> SPECIAL = List.of(
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.51.100.0/24",
            "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/127", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2002::/16", "fc00::/7",
            "fe80::/10", "ff00::/8");
    private static final List<String> TEST_WORLD = List.of("198.18.0.0/15", "2001:db8::/32");

    private final boolean testWorld;

    PublicAddresses(boolean testWorld) {
        this.testWorld = testWorld;
    }

    /** The address if {@code text} is a literal public unicast address; never a name (no lookup is made). */
    Optional<InetAddress> parse(String text) {
        if (!(IPV4.matcher(text).matches() || (text.contains(":") && IPV6.matcher(text).matches()))) {
            return Optional.empty();
        }
        try {
            InetAddress a = InetAddress.getByName(text);
            if (text.contains(":") && a instanceof Inet4Address) {
                return Optional.empty();    // IPv4 written as IPv6 (::ffff:a.b.c.d): publish it as IPv4
            }
            boolean test = TEST_WORLD.stream().anyMatch(block -> within(a, block));
            if (test) {
                return testWorld ? Optional.of(a) : Optional.empty();
            }
            return SPECIAL.stream().anyMatch(block -> within(a, block)) ? Optional.empty() : Optional.of(a);
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    static boolean within(InetAddress a, String block) {
        return PrivateNetworks.within(a, block);
    }
}
