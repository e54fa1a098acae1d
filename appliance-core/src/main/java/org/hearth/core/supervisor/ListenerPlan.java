package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.EngineNames;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Which listeners one app asks for: a pure function of its manifest and the host's addresses. */
final class ListenerPlan {

    static final String SMTP_BUSY = "421 4.3.2 Too busy, try again later\r\n";

    private ListenerPlan() {
    }

    /**
     * @param overlay  the overlay's address now; empty while it is down (private listeners then stay closed)
     * @param gateways the host's address on each of the app's networks, by network name
     */
    static List<DesiredListener> of(AppManifest m, EngineNames names, InetAddress publicAddress,
                                    Optional<InetAddress> overlay, Map<String, String> gateways) {
        List<DesiredListener> out = new ArrayList<>();
        m.containers().forEach((name, decl) -> {
            String role = m.app() + "/" + name;
            for (AppManifest.Port p : decl.ports()) {
                if (p.exposure() == AppManifest.Exposure.INTERNAL || p.listen().isEmpty()) {
                    continue;
                }
                String key = role + "/" + p.name();
                // Each connection to an ephemeral role gets its own container from the role's pool.
                String upstream = decl.containerPerUse() ? role : key;
                Optional<InetAddress> bind = p.exposure() == AppManifest.Exposure.PUBLIC ? Optional.of(publicAddress) : overlay;
                out.add(new DesiredListener(key, m.app(), name, p.name(), p.exposure().name().toLowerCase(Locale.ROOT),
                        bind, p.listen().get(), decl.containerPerUse(), upstream, refusalOf(p), p.sendsProxyHeader(),
                        p.perClient().orElse(0)));
                if (p.alsoOnOverlay()) {
                    // The same port for the owner's devices, on the overlay and under its guard.
                    out.add(new DesiredListener(key + "@overlay", m.app(), name, p.name(), "public", overlay,
                            p.listen().get(), decl.containerPerUse(), upstream, refusalOf(p), p.sendsProxyHeader(),
                            p.perClient().orElse(0)));
                }
            }
        });
        // A per-message server's clients dial its name, which their /etc/hosts points at the gateway of
        // their edge network; the supervisor listens there and hands each connection (one message) to a
        // fresh container of the server's pool.
        m.containers().forEach((from, decl) -> decl.edges().forEach(edge -> {
            AppManifest.Container target = m.containers().get(edge.to());
            if (!target.containerPerUse()) {
                return;
            }
            AppManifest.Port port = target.port(edge.port()).orElseThrow();
            Optional<InetAddress> bind = Optional.ofNullable(gateways.get(names.edgeNetwork(m.app(), from, edge.to())))
                    .map(ListenerPlan::address);
            String key = m.app() + "/" + edge.to() + "/" + port.name() + "/from-" + from;
            out.add(new DesiredListener(key, m.app(), edge.to(), port.name() + " (from " + from + ")", "internal", bind,
                    port.port(), true, m.app() + "/" + edge.to(), Optional.empty(), false, 0));
        }));
        return out;
    }

    private static Optional<String> refusalOf(AppManifest.Port p) {
        return p.protocol().filter(pr -> pr == AppManifest.Protocol.SMTP).map(pr -> SMTP_BUSY);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + literal, e);
        }
    }
}
