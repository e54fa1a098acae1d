package org.hearth.core.overlay;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Optional;

/**
 * The appliance config's {@code overlay.wireguard} section.
 *
 * @param device          the host interface (at most 15 characters)
 * @param network         the overlay's addresses: the appliance takes the first host, devices the next ones
 * @param listenPort      the UDP port devices send to
 * @param endpoint        host:port devices dial, written into their configuration; defaults to the
 *                        appliance's public address and {@code listenPort}
 * @param socketNamespace a network namespace to hold WireGuard's UDP socket while the interface itself
 *                        lives on the host: confines the endpoint to one link (used on shared machines)
 * @param keepalive       seconds between keepalives a device sends, so NAT on its side keeps the path open
 */
public record WireGuardSettings(String device, String network, @JsonProperty("listen-port") Integer listenPort,
                                Optional<String> endpoint, @JsonProperty("socket-namespace") Optional<String> socketNamespace,
                                Integer keepalive) {

    public WireGuardSettings {
        device = device == null ? "hearth-wg" : device;
        network = network == null ? "10.84.0.0/24" : network;
        listenPort = listenPort == null ? 51820 : listenPort;
        endpoint = endpoint == null ? Optional.empty() : endpoint;
        socketNamespace = socketNamespace == null ? Optional.empty() : socketNamespace;
        keepalive = keepalive == null ? 25 : keepalive;
        if (!device.matches("[A-Za-z0-9_.-]{1,15}")) {
            throw new IllegalArgumentException("device \"" + device + "\" must be 1 to 15 letters, digits, '.', '_' or '-'");
        }
        Ipv4Prefix prefix = Ipv4Prefix.parse(network);
        if (prefix.length() < 16 || prefix.length() > 29) {
            throw new IllegalArgumentException("network " + network + " must be a /16 to /29");
        }
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("listen-port " + listenPort + " must be 1..65535");
        }
        endpoint.ifPresent(e -> {
            if (!e.matches("[A-Za-z0-9.-]+:\\d{1,5}|\\[[0-9A-Fa-f:]+]:\\d{1,5}")) {
                throw new IllegalArgumentException("endpoint \"" + e + "\" must be HOST:PORT");
            }
        });
        socketNamespace.ifPresent(n -> {
            if (!n.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("socket-namespace \"" + n + "\" is not a network namespace name");
            }
        });
        if (keepalive < 0 || keepalive > 3600) {
            throw new IllegalArgumentException("keepalive " + keepalive + " must be 0..3600 seconds");
        }
    }

    public static WireGuardSettings defaults() {
        return new WireGuardSettings(null, null, null, null, null, null);
    }

    public Ipv4Prefix prefix() {
        return Ipv4Prefix.parse(network);
    }
}
