package org.hearth.core.overlay;

/**
 * The configuration a device imports (wg-quick format, as the WireGuard apps read it). Only the
 * overlay is routed through the tunnel: the device's other traffic goes its usual way.
 */
public final class WireGuardDeviceConfig {

    private WireGuardDeviceConfig() {
    }

    public static String render(WireGuardDevices.Issued issued, String appliancePublicKey, WireGuardSettings settings,
                                String endpoint) {
        WireGuardDevices.Device d = issued.device();
        return "[Interface]\n"
                + "# Hearth device \"" + d.name() + "\"\n"
                + "PrivateKey = " + issued.privateKey() + "\n"
                + "Address = " + d.address() + "/32\n"
                + "\n"
                + "[Peer]\n"
                + "# the Hearth appliance\n"
                + "PublicKey = " + appliancePublicKey + "\n"
                + "PresharedKey = " + d.presharedKey() + "\n"
                + "AllowedIPs = " + settings.prefix() + "\n"
                + "Endpoint = " + endpoint + "\n"
                + (settings.keepalive() > 0 ? "PersistentKeepalive = " + settings.keepalive() + "\n" : "");
    }
}
