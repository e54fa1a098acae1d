package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The owner's overlay as a ZeroTier network, driven through the local zerotier-one daemon's JSON API.
 * Each pass joins the configured network if the daemon is not a member (first start, or left behind our back)
 * and reports the network's first IPv4 assignment, device and prefix, or why there is none.
 */
public final class ZeroTierOverlay implements OverlayProvider {

    private static final Logger LOG = LoggerFactory.getLogger(ZeroTierOverlay.class);
    /** refresh() runs inside the once-a-second supervisor pass: a stuck daemon must not stall it for long. */
    static final Duration TIMEOUT = Duration.ofSeconds(1);

    private final ZeroTierSettings settings;
    private final ZeroTierServiceApi api;
    private Optional<InetAddress> lastAddress = Optional.empty();
    private Optional<String> lastProblem = Optional.empty();

    public ZeroTierOverlay(ZeroTierSettings settings) {
        this(settings, TIMEOUT);
    }

    /** Tests shorten the timeout to check a daemon that accepts but never answers. */
    ZeroTierOverlay(ZeroTierSettings settings, Duration timeout) {
        this.settings = settings;
        this.api = new ZeroTierServiceApi(settings, timeout);
    }

    @Override
    public String name() {
        return "zerotier";
    }

    @Override
    public boolean developmentOnly() {
        return false;
    }

    @Override
    public synchronized OverlayState refresh() {
        OverlayState now = observe();
        noteChange(now);
        return now;
    }

    /**
     * Leaves the network joined: the membership is the daemon's, which outlives the supervisor, and leaving
     * would only make the next start wait for the network's configuration again.
     */
    @Override
    public void close() {
        // Java 17's HttpClient has no close(); its selector thread ends once the client is unreachable.
    }

    private OverlayState observe() {
        if (settings.network().isEmpty()) {
            return OverlayState.down("no ZeroTier network configured: set overlay.zerotier.network to the "
                    + "16-digit id of the owner's network", Map.of());
        }
        String nwid = settings.network().get();
        Map<String, String> details = new LinkedHashMap<>();
        try {
            String node = api.nodeId();
            details.put("node", node);
            details.put("network", nwid);
            String path = "/network/" + nwid;
            ZeroTierServiceApi.Reply reply = api.get(path);
            if (reply.status() == 404) {
                return join(node, nwid, details);
            }
            if (reply.status() != 200) {
                throw api.unexpected("GET", path, reply);
            }
            JsonNode network = reply.body();
            String name = network.path("name").asText("");
            if (!name.isEmpty()) {
                details.put("name", name);
            }
            String status = network.path("status").asText("");
            return switch (status) {
                case "OK" -> assigned(node, nwid, network, details);
                case "REQUESTING_CONFIGURATION" -> OverlayState.down("waiting for network " + nwid
                        + " configuration from its controller", details);
                case "ACCESS_DENIED" -> OverlayState.down("node " + node + " is not authorized on network " + nwid
                        + ": authorize it in the network's controller", details);
                case "NOT_FOUND" -> OverlayState.down("network " + nwid
                        + " does not exist: check overlay.zerotier.network", details);
                case "PORT_ERROR" -> OverlayState.down("zerotier-one could not open the device for network " + nwid
                        + " (PORT_ERROR, portError " + network.path("portError").asInt() + "): check /dev/net/tun",
                        details);
                case "CLIENT_TOO_OLD" -> OverlayState.down("network " + nwid
                        + " needs a newer zerotier-one (CLIENT_TOO_OLD): upgrade it", details);
                case "AUTHENTICATION_REQUIRED" -> OverlayState.down("network " + nwid
                        + " requires node " + node + " to log in through its SSO provider (AUTHENTICATION_REQUIRED)",
                        details);
                default -> OverlayState.down("network " + nwid + " is in status \"" + status + "\"", details);
            };
        } catch (ZeroTierException e) {
            details.putIfAbsent("network", nwid);
            return OverlayState.down(e.getMessage(), details);
        } catch (RuntimeException e) {
            // The supervisor pass must go on whatever the daemon sends; private ports simply stay closed.
            details.putIfAbsent("network", nwid);
            return OverlayState.down("could not read zerotier-one's answer (" + e + ")", details);
        }
    }

    private OverlayState join(String node, String nwid, Map<String, String> details) {
        String path = "/network/" + nwid;
        ZeroTierServiceApi.Reply reply = api.post(path, ZeroTierServiceApi.JSON.createObjectNode());
        if (reply.status() != 200) {
            throw api.unexpected("POST", path, reply);
        }
        LOG.info("event=zerotier-join network={} node={}", nwid, node);
        return OverlayState.down("joining network " + nwid, details);
    }

    private OverlayState assigned(String node, String nwid, JsonNode network, Map<String, String> details) {
        if (!network.path("type").asText("").equals("PRIVATE")) {
            // Anyone who knows a public network's id can join it: private ports are not for them.
            return OverlayState.down("network " + nwid + " is not private (type " + network.path("type").asText("unknown")
                    + "): make it private in its controller", details);
        }
        if (!network.path("allowManaged").asBoolean(true)) {
            // The daemon then lists assignments but puts none on the device, so nothing could bind to them.
            return OverlayState.down("zerotier-one does not manage addresses on network " + nwid
                    + " (allowManaged is off): run zerotier-cli set " + nwid + " allowManaged=1", details);
        }
        Optional<Ipv4Prefix.Assignment> ipv4 = Optional.empty();
        for (JsonNode assigned : network.path("assignedAddresses")) {
            ipv4 = Ipv4Prefix.assignment(assigned.asText(""));
            if (ipv4.isPresent()) {
                break;
            }
        }
        if (ipv4.isEmpty()) {
            return OverlayState.down("no address assigned yet to node " + node + " on network " + nwid
                    + ": give the network an IPv4 pool or assign the node an address in its controller", details);
        }
        String device = network.path("portDeviceName").asText("");
        if (device.isEmpty()) {
            return OverlayState.down("zerotier-one has no device for network " + nwid + " yet", details);
        }
        return OverlayState.up(ipv4.get().address(), device, ipv4.get().network().toString(), details);
    }

    /** One log line per change, not per pass: the pass runs every second. */
    private void noteChange(OverlayState now) {
        String network = settings.network().orElse("-");
        Optional<InetAddress> address = now.address();
        if (!address.equals(lastAddress)) {
            if (lastAddress.isEmpty()) {
                LOG.info("event=zerotier-up network={} address={} device={}", network,
                        address.get().getHostAddress(), now.device().orElse("-"));
            } else if (address.isEmpty()) {
                LOG.warn("event=zerotier-address-lost network={} address={} problem=\"{}\"", network,
                        lastAddress.get().getHostAddress(), now.problem().orElse("-"));
            } else {
                LOG.info("event=zerotier-address-changed network={} from={} to={}", network,
                        lastAddress.get().getHostAddress(), address.get().getHostAddress());
            }
        } else if (now.problem().isPresent() && !now.problem().equals(lastProblem)) {
            LOG.warn("event=zerotier-down network={} problem=\"{}\"", network, now.problem().get());
        }
        lastAddress = address;
        lastProblem = now.problem();
    }
}
