package org.hearth.core.overlay;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An IPv4 address with its prefix length, as zerotier-one writes assignments and routes: {@code 10.147.17.23/24}. */
record Ipv4Cidr(Inet4Address address, int bits) {

    private static final Pattern FORM = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})");

    /** Empty for IPv6 assignments and anything malformed; parsed by hand so no string ever reaches a resolver. */
    static Optional<Ipv4Cidr> parse(String text) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            return Optional.empty();
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int octet = Integer.parseInt(m.group(i + 1));
            if (octet > 255) {
                return Optional.empty();
            }
            bytes[i] = (byte) octet;
        }
        int bits = Integer.parseInt(m.group(5));
        return bits > 32 ? Optional.empty() : Optional.of(new Ipv4Cidr(of(bytes), bits));
    }

    /** The prefix this address lies in, such as {@code 10.147.17.0/24}. */
    String network() {
        return networkAddress().getHostAddress() + "/" + bits;
    }

    boolean isNetworkAddress() {
        return networkAddress().equals(address);
    }

    /** The address {@code n} places after the network address: {@code 10.147.17.0/24} offset 1 is {@code 10.147.17.1}. */
    Inet4Address offset(int n) {
        int value = toInt(networkAddress()) + n;
        return of(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
    }

    private Inet4Address networkAddress() {
        int mask = bits == 0 ? 0 : -1 << (32 - bits);
        int value = toInt(address) & mask;
        return of(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
    }

    private static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    private static Inet4Address of(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes always make an IPv4 address", e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + bits;
    }
}
