package org.hearth.core.overlay;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The appliance config section {@code overlay.zerotier}.
 *
 * @param network the 16-digit hex id of the network this appliance joins; empty until the owner sets it
 * @param api     where zerotier-one's local JSON API listens, as host:port
 * @param home    zerotier-one's working directory, which holds {@code authtoken.secret}
 */
public record ZeroTierSettings(Optional<String> network, String api, Path home) {

    static final String DEFAULT_API = "127.0.0.1:9993";
    static final Path DEFAULT_HOME = Path.of("/var/lib/zerotier-one");

    public ZeroTierSettings {
        // Jackson passes null for keys the config leaves out; those take the defaults that work on a stock install.
        network = network == null ? Optional.empty()
                : network.map(n -> ZeroTierIds.network("overlay.zerotier.network", n));
        api = api == null ? DEFAULT_API : requireHostPort(api);
        home = home == null ? DEFAULT_HOME : home;
    }

    public static ZeroTierSettings defaults() {
        return new ZeroTierSettings(Optional.empty(), null, null);
    }

    private static String requireHostPort(String api) {
        try {
            URI uri = new URI("http://" + api);
            if (uri.getHost() != null && uri.getPort() > 0 && uri.getRawPath().isEmpty()
                    && uri.getRawQuery() == null && uri.getRawUserInfo() == null) {
                return api;
            }
        } catch (URISyntaxException e) {
            // falls through to the message below, which says what is expected
        }
        throw new IllegalArgumentException("overlay.zerotier.api: must be host:port such as " + DEFAULT_API
                + ", not \"" + api + "\"");
    }
}
