package org.hearth.registry.protocol;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The private networks a box's overlay may use, whose addresses the registry publishes for the
 * hosts only the owner's devices reach (RFC 1918, RFC 6598's shared space — ZeroTier's and CGNAT's —
 * and unique-local IPv6): such an address leads no one anywhere on the internet. The box decides
 * what to publish by the same rule the registry takes it by.
 */
public final class PrivateNetworks {

    public static final List<String> BLOCKS = List.of("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16",
            "fc00::/7");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    private PrivateNetworks() {
    }

    /** Whether {@code text} is a literal address (never a name: no lookup is made) in one of {@link #BLOCKS}. */
    public static boolean contains(String text) {
        if (!(IPV4.matcher(text).matches() || (text.contains(":") && IPV6.matcher(text).matches()))) {
            return false;
        }
        try {
            InetAddress a = InetAddress.getByName(text);
            if (text.contains(":") && a instanceof Inet4Address) {
                return false; // IPv4 written as IPv6: published as IPv4 or not at all
            }
            return BLOCKS.stream().anyMatch(block -> within(a, block));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Whether {@code a} is in the CIDR block {@code block}. */
    public static boolean within(InetAddress a, String block) {
        try {
            String[] parts = block.split("/");
            byte[] network = InetAddress.getByName(parts[0]).getAddress();
            byte[] address = a.getAddress();
            if (network.length != address.length) {
                return false;
            }
            int bits = Integer.parseInt(parts[1]);
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((network[i / 8] & mask) != (address[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(block, e);
        }
    }
}
