package org.hearth.core.overlay;

import org.hearth.core.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The owner's overlay as a WireGuard interface on this appliance. The supervisor's passes keep it
 * as configured: created if missing (deleted, wireguard-go died, or never made), peers exactly the
 * registered devices (a removed device is dropped within a pass, or at once by the CLI). The interface's
 * address is read from the kernel each pass, so an interface set down or re-addressed by hand
 * closes or moves the private ports; it is never raised again behind the owner's back.
 */
public final class WireGuardOverlay implements OverlayProvider {

    private static final Logger LOG = LoggerFactory.getLogger(WireGuardOverlay.class);
    /** A failed start is retried after 5 s, doubling to a minute, not every pass: each try spawns a daemon. */
    private static final Backoff RETRY = new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(1));

    private final WireGuardSettings settings;
    private final WireGuardDevices devices;
    private final WireGuardInterface wg;
    private final String endpoint;
    private Instant nextStart = Instant.MIN;
    private int failedStarts;
    private String lastStartFailure;
    /** Whether this supervisor has looked at the interface yet. */
    private boolean started;
    private Optional<InetAddress> lastAddress = Optional.empty();
    /** The appliance's public key, derived once: the key file never changes under a running supervisor. */
    private String publicKey;

    /** @param endpoint what devices dial, shown in status */
    public WireGuardOverlay(WireGuardSettings settings, WireGuardDevices devices, String endpoint) {
        this.settings = settings;
        this.devices = devices;
        this.wg = new WireGuardInterface(settings.device(), settings.socketNamespace());
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return "wireguard";
    }

    @Override
    public boolean developmentOnly() {
        return false;
    }

    @Override
    public OverlayState refresh() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("endpoint", endpoint);
        try {
            if (publicKey == null) {
                publicKey = devices.appliancePublicKey();
            }
            details.put("public-key", publicKey);
            WireGuardInterface.Link link = wg.link();
            if (link.wireGuard()) {
                // Checked every pass: ours may have died and another instance made its own under the name.
                Optional<String> theirs = wg.publicKey();
                if (theirs.isPresent() && !theirs.get().equals(publicKey)) {
                    // Another Hearth instance's (or another program's): never ours to replace or configure.
                    started = false;
                    return down("interface " + wg.device() + " runs with another key (" + theirs.get() + "): another"
                            + " Hearth instance or program uses it; give this appliance its own overlay.wireguard.device,"
                            + " or delete that interface (ip link del " + wg.device() + ")", details);
                }
                if (!started) {
                    // Left by an earlier run of ours that died: its port or socket namespace may no longer be right.
                    wg.delete();
                    LOG.info("event=wireguard-replaced device={} reason=left-by-earlier-run", wg.device());
                    link = wg.link();
                }
            }
            started = true;
            if (!link.exists()) {
                if (Instant.now().isBefore(nextStart)) {
                    return down("interface " + wg.device() + " is missing; starting it again within "
                            + Duration.between(Instant.now(), nextStart).toSeconds() + " s (the last start failed: "
                            + lastStartFailure + ")", details);
                }
                try {
                    wg.create(devices.appliancePrivateKey(), settings.listenPort(), settings.prefix().host(1),
                            settings.prefix().length());
                    failedStarts = 0;
                } catch (IOException e) {
                    Duration wait = RETRY.after(++failedStarts);
                    nextStart = Instant.now().plus(wait);
                    lastStartFailure = e.getMessage();
                    LOG.warn("event=wireguard-start-failed device={} attempt={} retry-in={}s error={}", wg.device(),
                            failedStarts, wait.toSeconds(), e.getMessage());
                    return down("cannot start WireGuard: " + e.getMessage(), details);
                }
                link = wg.link();
                LOG.info("event=wireguard-started device={} address={} listen-port={} implementation={}", wg.device(),
                        settings.prefix().host(1).getHostAddress(), settings.listenPort(), link.kind().label);
            }
            if (!link.wireGuard()) {
                return down("interface " + wg.device() + " exists but is not a WireGuard interface"
                        + " (overlay.wireguard.device names another one)", details);
            }
            details.put("implementation", link.kind().label);
            List<WireGuardDevices.Device> registered = syncPeers(wg, devices);
            details.put("devices", Long.toString(registered.stream().filter(devices::onNetwork).count()));
            String offNetwork = registered.stream().filter(d -> !devices.onNetwork(d))
                    .map(d -> d.name() + " (" + d.address() + ")").collect(Collectors.joining(", "));
            if (!offNetwork.isEmpty()) {
                details.put("devices-off-network", offNetwork + ": added before overlay.wireguard.network changed;"
                        + " remove and add them again");
            }
            if (!link.up()) {
                return down("interface " + wg.device() + " is down (ip link set " + wg.device() + " up)", details);
            }
            if (link.address().isEmpty()) {
                return down("interface " + wg.device() + " has no IPv4 address", details);
            }
            InetAddress address = link.address().get();
            noteAddress(Optional.of(address));
            return OverlayState.up(address, wg.device(), Ipv4Prefix.of(address, link.prefixLength()).toString(), details);
        } catch (IOException | RuntimeException e) {
            // Never out of the reconcile pass: a broken device file or an odd wg answer means "down", said why.
            return down(e.getMessage() == null ? e.toString() : e.getMessage(), details);
        }
    }

    private OverlayState down(String problem, Map<String, String> details) {
        noteAddress(Optional.empty());
        return OverlayState.down(problem, details);
    }

    private void noteAddress(Optional<InetAddress> now) {
        if (!now.equals(lastAddress)) {
            LOG.info("event=wireguard-address from={} to={}", lastAddress.map(InetAddress::getHostAddress).orElse("none"),
                    now.map(InetAddress::getHostAddress).orElse("none"));
            lastAddress = now;
        }
    }

    /** Makes the interface's peers exactly the registered devices on the network; returns every registered device. */
    private static List<WireGuardDevices.Device> syncPeers(WireGuardInterface wg, WireGuardDevices devices)
            throws IOException {
        // Under the registry's lock: a device removed meanwhile is never put back, even for one pass.
        return devices.whileLocked(registered -> {
            syncPeers(wg, registered.stream().filter(devices::onNetwork).toList());
            return registered;
        });
    }

    private static void syncPeers(WireGuardInterface wg, List<WireGuardDevices.Device> wanted) throws IOException {
        Map<String, WireGuardInterface.Peer> actual = wg.peers();
        for (String key : actual.keySet()) {
            if (wanted.stream().noneMatch(d -> d.publicKey().equals(key))) {
                wg.removePeer(key);
                LOG.info("event=wireguard-peer-removed device={} key={}", wg.device(), key);
            }
        }
        for (WireGuardDevices.Device d : wanted) {
            WireGuardInterface.Peer peer = actual.get(d.publicKey());
            if (peer == null || !peer.presharedKey().equals(d.presharedKey()) || !peer.allowedIps().equals(d.address() + "/32")) {
                wg.setPeer(d.publicKey(), d.presharedKey(), InetAddress.getByName(d.address()));
                LOG.info("event=wireguard-peer-set device={} name={} address={}", wg.device(), d.name(), d.address());
            }
        }
    }

    /** Applies a device change now rather than at the next pass, if the interface runs. */
    public static void applyNow(WireGuardSettings settings, WireGuardDevices devices) throws IOException {
        Optional<WireGuardInterface> wg = running(settings, devices);
        if (wg.isPresent()) {
            syncPeers(wg.get(), devices);
        }
    }

    /** Last handshake per device public key (seconds since the epoch, 0 for never), if the interface runs. */
    public static Map<String, Long> handshakes(WireGuardSettings settings, WireGuardDevices devices) throws IOException {
        Map<String, Long> out = new LinkedHashMap<>();
        Optional<WireGuardInterface> wg = running(settings, devices);
        if (wg.isPresent()) {
            wg.get().peers().forEach((key, peer) -> out.put(key, peer.latestHandshake()));
        }
        return out;
    }

    /** The configured interface if it runs with this appliance's key; one with another key is not ours to touch. */
    private static Optional<WireGuardInterface> running(WireGuardSettings settings, WireGuardDevices devices)
            throws IOException {
        WireGuardInterface wg = new WireGuardInterface(settings.device(), settings.socketNamespace());
        boolean ours = wg.link().wireGuard() && wg.publicKey().equals(Optional.of(devices.appliancePublicKey()));
        return ours ? Optional.of(wg) : Optional.empty();
    }

    @Override
    public void close() {
        try {
            // Only the interface this run made, still with our key: another's stays as it is.
            if (started && wg.link().wireGuard() && wg.publicKey().equals(Optional.ofNullable(publicKey))) {
                wg.delete();
                LOG.info("event=wireguard-stopped device={}", wg.device());
            }
        } catch (IOException e) {
            LOG.warn("event=wireguard-stop-failed device={} error={}", wg.device(), e.getMessage());
        }
    }
}
