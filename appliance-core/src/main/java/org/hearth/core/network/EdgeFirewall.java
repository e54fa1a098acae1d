package org.hearth.core.network;

import org.hearth.core.SystemTool;
import org.hearth.core.runtime.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Narrows what the engine's networks allow to exactly the declared edges. The engine lets any
 * two members of a network talk on any port and lets containers reach the host through their
 * gateway; Hearth's chains (jumped to from DOCKER-USER and INPUT) allow, per edge network, only
 * the client to the server's declared ports, and to the host only the connections its hand-off
 * listeners take (for per-message servers). An egress network (the only kind with a route out)
 * may leave the host only to its declared ports and resolver. The whole rule set is
 * replaced in one iptables-restore commit, so there is no moment without it.
 */
public final class EdgeFirewall {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeFirewall.class);
    /** Where the kernel says whether traffic within one bridge passes iptables; without it, a network's members reach each other on any port. */
    private static final Path BRIDGE_NF = Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables");
    private final String forwardChain;
    private final String inputChain;
    private final Engine.Kind engine;
    private final String forwardHook;
    private final String allow;

    /** The start of every bridge Hearth names on Podman (Docker names its own, after the network's id). */
    public static final String PODMAN_BRIDGE_PREFIX = "hb-";
    /** Bridges of the engines a host may have: Hearth's on Podman, Docker's, and each engine's default. */
    static final List<String> ENGINE_BRIDGES = List.of(PODMAN_BRIDGE_PREFIX + "+", "br-+", "docker0", "podman+");

    /**
     * Chains of one Hearth instance (one state folder): each supervisor replaces only its own, so
     * two instances on one host (the demo beside a test run) never wipe each other's isolation.
     *
     * <p>They narrow the engine's own rules. Docker jumps from FORWARD to DOCKER-USER before its own
     * chains, and those keep its networks apart: Hearth's chain returns what it allows to them. Podman
     * (netavark) makes no rule for an internal network and keeps no network apart from another, and on
     * a host with Docker too, Docker's FORWARD policy would drop a Podman network's traffic: Hearth's
     * chain sits first in FORWARD, accepts what it allows, keeps an internal network's traffic on its
     * bridge and an egress network's off every engine's bridges, and lets members ask their network's
     * resolver (aardvark-dns, on the host's address; Docker's answers inside each container).
     */
    public EdgeFirewall(String instanceId, Engine.Kind engine) {
        this.forwardChain = "HEARTH-F-" + instanceId;
        this.inputChain = "HEARTH-I-" + instanceId;
        this.engine = engine;
        this.forwardHook = engine == Engine.Kind.PODMAN ? "FORWARD" : "DOCKER-USER";
        this.allow = engine == Engine.Kind.PODMAN ? "ACCEPT" : "RETURN";
    }

    /**
     * A connection a network may carry.
     *
     * @param source      the client's address; empty for "any member", used when the clients are a
     *                    pool of ephemeral containers (each new, none ever the server)
     * @param destination the server's address, or the host's gateway address for a hand-off listener
     */
    public record Flow(Optional<String> source, String destination, int port) {
    }

    /**
     * A connection out of the host from an egress network.
     *
     * @param destination one address (the resolver), or empty for any address beyond this host
     * @param protocol    {@code tcp} or {@code udp}
     */
    public record Outbound(Optional<String> destination, String protocol, int port) {
        public Outbound {
            if (!protocol.equals("tcp") && !protocol.equals("udp")) {
                throw new IllegalArgumentException("protocol must be tcp or udp: " + protocol);
            }
        }
    }

    /**
     * What one Hearth network may carry; anything else is dropped.
     *
     * @param bridge  the network's bridge interface
     * @param between connections from one member to another (a client to its server)
     * @param toHost  connections from members to the supervisor's hand-off listener on the gateway
     * @param routed  whether the network has a route out (egress); if so, only {@code out} may leave
     * @param out     connections a routed network's members may open beyond the host
     */
    public record NetworkRule(String bridge, List<Flow> between, List<Flow> toHost, boolean routed, List<Outbound> out) {
        public NetworkRule {
            between = List.copyOf(between);
            toHost = List.copyOf(toHost);
            out = List.copyOf(out);
            if (!routed && !out.isEmpty()) {
                throw new IllegalArgumentException("only a routed network can carry connections out");
            }
        }

        /** An internal network's rule: connections among its members and to the host only. */
        public NetworkRule(String bridge, List<Flow> between, List<Flow> toHost) {
            this(bridge, between, toHost, false, List.of());
        }

        /** An egress network's rule: its one member may open {@code out} and nothing else. */
        public static NetworkRule egress(String bridge, List<Outbound> out) {
            return new NetworkRule(bridge, List.of(), List.of(), true, out);
        }

        /** A network that carries no new connection at all (an ingress network, or an edge whose ends do not run). */
        public static NetworkRule closed(String bridge) {
            return new NetworkRule(bridge, List.of(), List.of());
        }

    }

    /**
     * The overlay's address may be reached only through the overlay's interface or from this host:
     * Linux accepts a packet for any local address on any interface, so without this a neighbour
     * on the public side could route to the overlay address and reach the private ports.
     */
    public record OverlayGuard(String address, String device) {
    }

    private List<String> applied = List.of();
    private boolean jumpsChecked;

    /** Replaces Hearth's rules with {@code rules} and the overlay guard if they differ from what was applied last. */
    public synchronized void apply(List<NetworkRule> rules, Optional<OverlayGuard> guard) {
        List<String> lines = new ArrayList<>(guard.map(this::render).orElse(List.of()));
        lines.addAll(render(rules));
        boolean displaced = forwardJumpDisplaced();
        if (lines.equals(applied) && jumpsChecked && !displaced) {
            return;
        }
        StringBuilder restore = new StringBuilder("*filter\n")
                .append(':').append(forwardChain).append(" - [0:0]\n")
                .append(':').append(inputChain).append(" - [0:0]\n");
        lines.forEach(l -> restore.append(l).append('\n'));
        restore.append("COMMIT\n");
        run(List.of("iptables-restore", "-w", "--noflush"), restore.toString());
        if (!jumpsChecked) {
            removeSharedChains();
            if (engine == Engine.Kind.PODMAN) {
                ensureBridgeTrafficFiltered();
            }
        }
        if (displaced) {
            while (run(List.of("iptables", "-w", "-D", forwardHook, "-j", forwardChain), "") == 0) {
                LOG.info("event=forward-jump-moved chain={} reason=\"the engine's own jump was put before it\"", forwardChain);
            }
        }
        ensureJump(forwardHook, forwardChain);
        ensureJump("INPUT", inputChain);
        jumpsChecked = true;
        applied = lines;
        LOG.info("event=firewall-applied networks={} rules={}", rules.size(), lines.size());
    }

    /**
     * Removes this instance's chains and the jumps to them, for hearth down: with its containers
     * stopped and its listeners closed there is nothing left to guard. The next apply starts over.
     */
    public synchronized void remove() {
        removeChain(forwardHook, forwardChain);
        removeChain("INPUT", inputChain);
        applied = List.of();
        jumpsChecked = false;
        LOG.info("event=firewall-removed chains={},{}", forwardChain, inputChain);
    }

    List<String> render(OverlayGuard guard) {
        String to = "-A " + inputChain + " -d " + guard.address() + "/32";
        List<String> out = new ArrayList<>();
        out.add(to + " -i lo -j RETURN");
        if (!guard.device().equals("lo")) {
            out.add(to + " -i " + guard.device() + " -j RETURN");
        }
        out.add(to + " -j DROP");
        return out;
    }

    List<String> render(List<NetworkRule> rules) {
        List<String> out = new ArrayList<>();
        String allow = " -j " + this.allow;
        for (NetworkRule r : rules) {
            String br = r.bridge();
            out.add("-A " + inputChain + " -i " + br + " -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN");
            r.toHost().forEach(f -> out.add("-A " + inputChain + " -i " + br + match(f) + " -j RETURN"));
            // A resolver may be this host's own address on another interface.
            r.out().stream().filter(o -> o.destination().isPresent())
                    .forEach(o -> out.add("-A " + inputChain + " -i " + br + match(o) + " -j RETURN"));
            if (engine == Engine.Kind.PODMAN) {
                // Podman's resolver (aardvark-dns) listens on the network's own gateway; port 53 of the
                // host's other addresses (another network's gateway, a resolver on the host) is not the network's.
                for (String protocol : List.of("udp", "tcp")) {
                    out.add("-A " + inputChain + " -i " + br + " -p " + protocol + " -m " + protocol + " --dport "
                            + EgressConfig.DNS_PORT + " -m addrtype --dst-type LOCAL --limit-iface-in -j RETURN");
                }
            }
            out.add("-A " + inputChain + " -i " + br + " -j DROP");
            out.add("-A " + forwardChain + " -i " + br + " -o " + br + " -m conntrack --ctstate ESTABLISHED,RELATED" + allow);
            r.between().forEach(f -> out.add("-A " + forwardChain + " -i " + br + " -o " + br + match(f) + allow));
            out.add("-A " + forwardChain + " -i " + br + " -o " + br + " -j DROP");
            if (r.routed()) {
                if (engine == Engine.Kind.PODMAN) {
                    ENGINE_BRIDGES.forEach(b -> out.add("-A " + forwardChain + " -i " + br + " -o " + b + " -j DROP"));
                    out.add("-A " + forwardChain + " -o " + br + " -m conntrack --ctstate ESTABLISHED,RELATED" + allow);
                }
                // On Docker, RETURN hands the packet on to the engine's own chains, which keep networks apart.
                out.add("-A " + forwardChain + " -i " + br + " -m conntrack --ctstate ESTABLISHED,RELATED" + allow);
                r.out().forEach(o -> out.add("-A " + forwardChain + " -i " + br + match(o) + allow));
                out.add("-A " + forwardChain + " -i " + br + " -j DROP");
            } else if (engine == Engine.Kind.PODMAN) {
                out.add("-A " + forwardChain + " -i " + br + " -j DROP");
                out.add("-A " + forwardChain + " -o " + br + " -j DROP");
            }
        }
        return out;
    }

    /**
     * Whether netavark's jump comes before this instance's in FORWARD: netavark puts its own first
     * whenever it finds it missing (at the first container on a routed network after its last went),
     * and its chain accepts everything a routed network sends. Docker's DOCKER-USER comes first by
     * design: nothing to check there. Asked once a pass on Podman (one iptables run, ≈ 1 ms of CPU).
     */
    private boolean forwardJumpDisplaced() {
        if (engine != Engine.Kind.PODMAN || !jumpsChecked) {
            return false;
        }
        List<String> forward;
        try {
            SystemTool.Result r = SystemTool.attempt(new byte[0], "iptables", "-w", "-S", forwardHook);
            forward = r.output().lines().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run iptables: " + e.getMessage(), e);
        }
        int own = forward.indexOf("-A " + forwardHook + " -j " + forwardChain);
        for (int i = 0; i < forward.size(); i++) {
            if (forward.get(i).contains("-j NETAVARK")) {
                return own < 0 || i < own;
            }
        }
        return own < 0;
    }

    /**
     * Podman leaves it to the host whether traffic between two members of one bridge passes
     * iptables (Docker turns it on itself): without br_netfilter, an edge's narrowing would not apply.
     */
    private static void ensureBridgeTrafficFiltered() {
        try {
            if (!Files.exists(BRIDGE_NF)) {
                SystemTool.attempt(new byte[0], "modprobe", "br_netfilter");
            }
            if (!Files.exists(BRIDGE_NF)) {
                throw new IllegalStateException("the kernel has no br_netfilter (" + BRIDGE_NF + " is missing): "
                        + "traffic within an app's network would pass no firewall; refusing to go on");
            }
            if (!Files.readString(BRIDGE_NF).strip().equals("1")) {
                Files.writeString(BRIDGE_NF, "1");
                LOG.info("event=bridge-traffic-filtered file={}", BRIDGE_NF);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot make traffic within a bridge pass iptables (" + BRIDGE_NF + "): "
                    + e.getMessage(), e);
        }
    }

    private static String match(Outbound o) {
        return o.destination().map(d -> " -d " + d + "/32").orElse("") + " -p " + o.protocol() + " -m " + o.protocol()
                + " --dport " + o.port();
    }

    private static String match(Flow f) {
        return f.source().map(s -> " -s " + s + "/32").orElse("") + " -d " + f.destination() + "/32 -p tcp -m tcp --dport "
                + f.port();
    }

    /**
     * Removes the chains every instance shared before each had its own: their stale DROP rules
     * would otherwise still see the traffic an instance's own chain lets through.
     */
    private static void removeSharedChains() {
        boolean forward = removeChain("DOCKER-USER", "HEARTH-FORWARD");
        boolean input = removeChain("INPUT", "HEARTH-INPUT");
        if (forward || input) {
            LOG.info("event=shared-chains-removed");
        }
    }

    /** Deletes every jump from {@code parent} to {@code chain}, then the chain; whether there was one. */
    private static boolean removeChain(String parent, String chain) {
        boolean jumped = false;
        while (run(List.of("iptables", "-w", "-D", parent, "-j", chain), "") == 0) {
            jumped = true;
        }
        run(List.of("iptables", "-w", "-F", chain), "");
        return run(List.of("iptables", "-w", "-X", chain), "") == 0 || jumped;
    }

    /** Puts {@code -j chain} first in {@code from} unless it is already there. */
    private static void ensureJump(String from, String chain) {
        if (run(List.of("iptables", "-w", "-C", from, "-j", chain), "") != 0) {
            if (run(List.of("iptables", "-w", "-N", from), "") == 0) {
                LOG.info("event=chain-created chain={}", from);
            }
            if (run(List.of("iptables", "-w", "-I", from, "1", "-j", chain), "") != 0) {
                throw new IllegalStateException("cannot insert the jump to " + chain + " into " + from);
            }
        }
    }

    private static int run(List<String> cmd, String input) {
        try {
            SystemTool.Result r = SystemTool.attempt(input.getBytes(StandardCharsets.UTF_8), cmd.toArray(String[]::new));
            if (r.exitCode() != 0 && cmd.get(0).equals("iptables-restore")) {
                throw new IllegalStateException("iptables-restore failed (" + r.exitCode() + "): " + r.output().strip());
            }
            return r.exitCode();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
        }
    }
}
