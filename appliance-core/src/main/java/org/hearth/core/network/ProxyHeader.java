package org.hearth.core.network;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol version 2 header (HAProxy's binary form) that tells a server behind the edge
 * listener who its client really is: the listener's connection to the container otherwise comes from
 * the ingress gateway. Only the address block is sent (no TLVs). Apache James's Netty servers read
 * it first when started with {@code proxyRequired}.
 */
public final class ProxyHeader {

    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    /** Version 2, command PROXY. */
    private static final int VERSION_PROXY = 0x21;
    private static final int TCP_OVER_IPV4 = 0x11;
    private static final int TCP_OVER_IPV6 = 0x21;

    private ProxyHeader() {
    }

    /** The header for a connection from {@code client} that arrived at {@code local}. */
    public static byte[] of(InetSocketAddress client, InetSocketAddress local) {
        InetAddress from = client.getAddress();
        InetAddress to = local.getAddress();
        // Both ends in one family: an IPv4 listener address with an IPv6 client is sent as IPv6.
        boolean v4 = from instanceof Inet4Address && to instanceof Inet4Address;
        byte[] source = v4 ? from.getAddress() : ipv6(from);
        byte[] destination = v4 ? to.getAddress() : ipv6(to);
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 + 36);
        out.writeBytes(SIGNATURE);
        out.write(VERSION_PROXY);
        out.write(v4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6);
        int length = 2 * source.length + 4;
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.writeBytes(source);
        out.writeBytes(destination);
        out.write(client.getPort() >> 8);
        out.write(client.getPort() & 0xFF);
        out.write(local.getPort() >> 8);
        out.write(local.getPort() & 0xFF);
        return out.toByteArray();
    }

    private static byte[] ipv6(InetAddress address) {
        if (address instanceof Inet6Address) {
            return address.getAddress();
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(address.getAddress(), 0, mapped, 12, 4);
        return mapped;
    }
}
