package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.core.SystemTool;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The host's WireGuard interface, configured with {@code wg} and {@code ip}: the kernel's own where
 * the kernel has WireGuard (Debian's arm64 kernel on the Pi: no daemon, ≈ 10 MiB and the userspace
 * copies saved), else one run by Debian's userspace {@code wireguard-go} (this build machine's kernel
 * has no module). With a socket namespace, the interface is made inside it, so its UDP socket stays
 * there, and is then moved to the host: packets enter only on that namespace's links, and come out
 * on the host.
 */
final class WireGuardInterface {

    /** wireguard-go refuses to start on kernels with WireGuard support unless told this. */
    private static final Map<String, String> USERSPACE = Map.of("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "1",
            "LOG_LEVEL", "error");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The alias Hearth gives the kernel WireGuard links it makes. */
    private static final String ALIAS = "hearth-overlay";

    /** Who runs an interface of this name: the kernel's WireGuard (made by Hearth), wireguard-go, or neither. */
    enum Kind {
        KERNEL("kernel"), WIREGUARD_GO("wireguard-go"), NOT_WIREGUARD("none");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** What the kernel says of the interface. */
    record Link(boolean exists, Kind kind, boolean up, Optional<InetAddress> address, int prefixLength) {
        static final Link ABSENT = new Link(false, Kind.NOT_WIREGUARD, false, Optional.empty(), 0);

        /** A WireGuard interface this appliance may configure; any other of that name is not ours. */
        boolean wireGuard() {
            return kind != Kind.NOT_WIREGUARD;
        }
    }

    /** One peer as wg reports it. */
    record Peer(String publicKey, String presharedKey, String allowedIps, long latestHandshake) {
    }

    private final String device;
    private final Optional<String> socketNamespace;

    WireGuardInterface(String device, Optional<String> socketNamespace) {
        this.device = device;
        this.socketNamespace = socketNamespace;
    }

    String device() {
        return device;
    }

    Link link() throws IOException {
        if (!Files.exists(Path.of("/sys/class/net", device))) {
            return Link.ABSENT;
        }
        // -d: the link's kind and alias too, so one ip run a pass tells who runs it.
        JsonNode all = JSON.readTree(SystemTool.run("ip", "-d", "-j", "addr", "show", "dev", device));
        if (!all.isArray() || all.isEmpty()) {
            return Link.ABSENT;
        }
        JsonNode link = all.get(0);
        boolean up = false;
        for (JsonNode flag : link.path("flags")) {
            up |= flag.asText().equals("UP");
        }
        Kind kind = runByWireGuardGo() ? Kind.WIREGUARD_GO
                // A kernel link only if Hearth made it (its alias): another program's is not ours to adopt or delete.
                : link.path("linkinfo").path("info_kind").asText().equals("wireguard")
                        && link.path("ifalias").asText().equals(ALIAS) ? Kind.KERNEL : Kind.NOT_WIREGUARD;
        for (JsonNode a : link.path("addr_info")) {
            if (a.path("family").asText().equals("inet")) {
                return new Link(true, kind, up, Optional.of(InetAddress.getByName(a.path("local").asText())),
                        a.path("prefixlen").asInt());
            }
        }
        return new Link(true, kind, up, Optional.empty(), 0);
    }

    /** wireguard-go answers on this socket while it runs the interface. */
    private boolean runByWireGuardGo() {
        return Files.exists(Path.of("/var/run/wireguard", device + ".sock"));
    }

    /**
     * Makes the interface (the kernel's WireGuard, else wireguard-go), gives it its key and port, puts
     * {@code address} on it and brings it up.
     */
    void create(String privateKey, int listenPort, InetAddress address, int prefixLength) throws IOException {
        if (socketNamespace.isPresent()) {
            String ns = socketNamespace.get();
            if (!Files.exists(Path.of("/run/netns", ns))) {
                throw new IOException("network namespace " + ns + " (overlay.wireguard.socket-namespace) does not exist");
            }
            if (!kernelLink("ip", "-n", ns)) {
                startDaemon("ip", "netns", "exec", ns, "wireguard-go", device);
            }
            try {
                SystemTool.run("ip", "-n", ns, "link", "set", device, "netns", Long.toString(ProcessHandle.current().pid()));
            } catch (IOException e) {
                quietly("ip", "-n", ns, "link", "del", device);
                throw e;
            }
        } else if (!kernelLink("ip")) {
            startDaemon("wireguard-go", device);
        }
        try {
            SystemTool.run(privateKey.getBytes(StandardCharsets.US_ASCII), "wg", "set", device, "private-key", "/dev/stdin",
                    "listen-port", Integer.toString(listenPort));
            SystemTool.run("ip", "addr", "add", address.getHostAddress() + "/" + prefixLength, "dev", device);
            SystemTool.run("ip", "link", "set", device, "up");
        } catch (IOException e) {
            // A half-made interface would pass for one set down by hand and never be made again.
            quietly("ip", "link", "del", device);
            throw e;
        }
    }

    private static void quietly(String... cmd) {
        try {
            SystemTool.run(cmd);
        } catch (IOException ignored) {
            // already gone, or the next pass reports what is left
        }
    }

    /**
     * Asks the kernel for a WireGuard link ({@code ip ... link add}), marked as Hearth's; false when
     * the kernel has no WireGuard ("Unknown device type": no module, or none to load), which leaves it
     * to wireguard-go. Any other refusal is the kernel's word, passed on.
     */
    private boolean kernelLink(String... ip) throws IOException {
        try {
            SystemTool.run(Stream.concat(Stream.of(ip), Stream.of("link", "add", "dev", device, "type", "wireguard"))
                    .toArray(String[]::new));
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("Unknown device type") || message.contains("not supported")) {
                return false;
            }
            throw e;
        }
        try {
            SystemTool.run(Stream.concat(Stream.of(ip), Stream.of("link", "set", "dev", device, "alias", ALIAS))
                    .toArray(String[]::new));
        } catch (IOException e) {
            quietly(Stream.concat(Stream.of(ip), Stream.of("link", "del", device)).toArray(String[]::new));
            throw e;
        }
        return true;
    }

    /** wireguard-go forks its daemon and exits once the interface exists. */
    private static void startDaemon(String... cmd) throws IOException {
        SystemTool.runDetaching(Duration.ofSeconds(20), USERSPACE, cmd);
    }

    /** The interface's public key; empty while it has none (a start cut short). */
    Optional<String> publicKey() throws IOException {
        String key = SystemTool.run("wg", "show", device, "public-key").strip();
        return key.isEmpty() || key.equals("(none)") ? Optional.empty() : Optional.of(key);
    }

    Map<String, Peer> peers() throws IOException {
        Map<String, Peer> peers = new HashMap<>();
        List<String> lines = SystemTool.run("wg", "show", device, "dump").lines().toList();
        // The first line is the interface itself; each further one a peer, tab-separated.
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.split("\t");
            if (f.length >= 5) {
                peers.put(f[0], new Peer(f[0], f[1], f[3], Long.parseLong(f[4])));
            }
        }
        return peers;
    }

    void setPeer(String publicKey, String presharedKey, InetAddress address) throws IOException {
        SystemTool.run(presharedKey.getBytes(StandardCharsets.US_ASCII), "wg", "set", device, "peer", publicKey,
                "preshared-key", "/dev/stdin", "allowed-ips", address.getHostAddress() + "/32");
    }

    void removePeer(String publicKey) throws IOException {
        SystemTool.run("wg", "set", device, "peer", publicKey, "remove");
    }

    /**
     * Deletes the interface, which ends wireguard-go if it ran it: then waits until it has gone (its
     * socket with it), so a new interface of this name can take the same UDP port at once. The
     * kernel's closes its socket as the link goes.
     */
    void delete() throws IOException {
        boolean daemon = runByWireGuardGo();
        String port = daemon ? SystemTool.run("wg", "show", device, "listen-port").strip() : "0";
        SystemTool.run("ip", "link", "del", device);
        if (!daemon) {
            return;
        }
        Path socket = Path.of("/var/run/wireguard", device + ".sock");
        // The daemon removes its control socket before it closes its UDP socket: wait for both.
        if (!waitFor(() -> !Files.exists(socket))) {
            throw new IOException("wireguard-go of " + device + " did not stop within 5 s of deleting the interface");
        }
        if (!port.equals("0") && !waitFor(() -> !udpPortHeld(port))) {
            throw new IOException("wireguard-go of " + device + " still holds UDP port " + port
                    + " 5 s after its interface was deleted");
        }
    }

    private interface Check {
        boolean holds() throws IOException;
    }

    private boolean waitFor(Check check) throws IOException {
        try {
            for (int i = 0; i < 100; i++) {
                if (check.holds()) {
                    return true;
                }
                Thread.sleep(50);
            }
            return check.holds();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + device + " went away", e);
        }
    }

    /** Whether a UDP socket listens on {@code port} where wireguard-go binds (the socket namespace, or the host). */
    private boolean udpPortHeld(String port) throws IOException {
        String[] ss = {"ss", "-H", "-u", "-l", "-n", "sport", "=", ":" + port};
        String listening = socketNamespace.isPresent()
                ? SystemTool.run(Stream.concat(Stream.of("ip", "netns", "exec", socketNamespace.get()), Stream.of(ss))
                        .toArray(String[]::new))
                : SystemTool.run(ss);
        return !listening.isBlank();
    }
}
