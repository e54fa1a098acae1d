package org.hearth.core.ownerapp;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code owner-app:} in appliance.yaml: the port the box serves its owner app on, on the overlay's
 * address only (443 unless said; {@code 0} serves none).
 */
public record OwnerAppConfig(int port) {

    public static final int DEFAULT_PORT = 443;

    @JsonCreator
    public OwnerAppConfig(@JsonProperty("port") Integer port) {
        this(port == null ? DEFAULT_PORT : check(port));
    }

    public static OwnerAppConfig defaults() {
        return new OwnerAppConfig(DEFAULT_PORT);
    }

    public boolean enabled() {
        return port != 0;
    }

    private static int check(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("owner-app.port: a TCP port (1 to 65535, or 0 for none) is needed, not " + port);
        }
        return port;
    }
}
