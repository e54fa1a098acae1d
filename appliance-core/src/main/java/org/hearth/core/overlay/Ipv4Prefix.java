package org.hearth.core.overlay;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** An IPv4 network such as {@code 10.84.0.0/24}: the overlay's address plan. */
public record Ipv4Prefix(int base, int length) {

    public Ipv4Prefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, not " + length);
        }
        base &= mask(length);
    }

    /** Parses {@code a.b.c.d/len}; host bits must be zero, so a typo cannot silently mean another network. */
    public static Ipv4Prefix parse(String text) {
        String[] parts = text.split("/", -1);
        if (parts.length != 2 || !parts[0].matches("\\d{1,3}(\\.\\d{1,3}){3}") || !parts[1].matches("\\d{1,2}")) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IPv4 prefix such as 10.84.0.0/24");
        }
        int address = toInt(literal(parts[0]));
        int length = Integer.parseInt(parts[1]);
        Ipv4Prefix prefix = new Ipv4Prefix(address, length);
        if (prefix.base != address) {
            throw new IllegalArgumentException("\"" + text + "\" has host bits set; the network is " + prefix);
        }
        return prefix;
    }

    /** The {@code n}th address of the network (1 is the first host). */
    public InetAddress host(int n) {
        if (n < 1 || n >= size() - 1) {
            throw new IllegalArgumentException(this + " has no host number " + n);
        }
        return fromInt(base + n);
    }

    /** How many addresses the network spans, network and broadcast included. */
    public long size() {
        return 1L << (32 - length);
    }

    public boolean contains(InetAddress address) {
        return address instanceof Inet4Address && (toInt(address) & mask(length)) == base;
    }

    /** An address on an interface with the network it puts there, as {@code 10.147.17.23/24} reads. */
    public record Assignment(InetAddress address, Ipv4Prefix network) {
    }

    /** Reads {@code a.b.c.d/len}; empty for IPv6 and anything malformed. */
    public static Optional<Assignment> assignment(String text) {
        String[] parts = text.split("/", -1);
        try {
            if (parts.length == 2 && parts[1].matches("\\d{1,2}")) {
                InetAddress address = literal(parts[0]);
                return Optional.of(new Assignment(address, of(address, Integer.parseInt(parts[1]))));
            }
        } catch (IllegalArgumentException e) {
            // not an IPv4 assignment
        }
        return Optional.empty();
    }

    /** The network an address on an interface belongs to: {@code 10.84.0.1} with 24 gives {@code 10.84.0.0/24}. */
    public static Ipv4Prefix of(InetAddress address, int length) {
        return new Ipv4Prefix(toInt(address), length);
    }

    @Override
    public String toString() {
        return fromInt(base).getHostAddress() + "/" + length;
    }

    private static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    private static int toInt(InetAddress address) {
        byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    private static InetAddress fromInt(int v) {
        try {
            return InetAddress.getByAddress(new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an address", e);
        }
    }

    private static InetAddress literal(String dotted) {
        if (!dotted.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("\"" + dotted + "\" is not an IPv4 address");
        }
        for (String octet : dotted.split("\\.")) {
            if (Integer.parseInt(octet) > 255) {
                throw new IllegalArgumentException("\"" + dotted + "\" is not an IPv4 address");
            }
        }
        try {
            return InetAddress.getByName(dotted);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + dotted + "\" is not an IPv4 address", e);
        }
    }
}
