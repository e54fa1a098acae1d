package org.hearth.core.network;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A smarthost (appliance.yaml's {@code egress.relay}): many home connections block outbound port
 * 25, so mail for other domains goes to this server instead, which sends it on. Containers that
 * declare {@code egress: [{to: relay}]} get these settings, and the password from the key vault
 * ({@link #PASSWORD_SECRET}); the password is never written here.
 *
 * @param host     the relay's name (its certificate must carry it) or address
 * @param port     587 (submission, STARTTLS) unless given; 465 is implicit TLS
 * @param username the login; without one the relay is used without AUTH (a relay that knows this network)
 * @param trust    a PEM file of CA certificates to trust for this relay beside the public ones (a relay
 *                 with its own CA); the relay's certificate is always checked
 */
public record RelayConfig(String host, Integer port, Optional<String> username, Optional<String> trust) {

    /** The key vault entry holding the relay's password: hearth secret set relay-password. */
    public static final String PASSWORD_SECRET = "relay-password";
    public static final int SUBMISSION = 587;
    public static final int SUBMISSIONS = 465;

    public RelayConfig {
        username = username == null ? Optional.empty() : username;
        trust = trust == null ? Optional.empty() : trust;
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("relay.host is missing: name the relay's server (for example smtp.example.net)");
        }
        host = host.strip().toLowerCase(Locale.ROOT);
        if (!host.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.?")) {
            throw new IllegalArgumentException("relay.host \"" + host + "\" is not a host name or IPv4 address");
        }
        port = port == null ? SUBMISSION : port;
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("relay.port " + port + " is not a TCP port (587 for STARTTLS, 465 for TLS)");
        }
        if (port == 25) {
            throw new IllegalArgumentException("relay.port 25 is the port a relay is there to avoid: use 587 (STARTTLS) or 465 (TLS)");
        }
        if (username.isPresent() && username.get().isBlank()) {
            throw new IllegalArgumentException("relay.username is empty: leave it out for a relay without a login");
        }
        if (trust.isPresent() && !Files.isRegularFile(Path.of(trust.get()))) {
            throw new IllegalArgumentException("relay.trust " + trust.get() + " is not a file (a PEM file of CA certificates)");
        }
    }

    /** 465 is TLS from the first byte (RFC 8314); every other port starts plain and must offer STARTTLS. */
    public boolean implicitTls() {
        return port == SUBMISSIONS;
    }

    /** The relay's address when {@link #host} is one: the firewall can then open the way to it alone. */
    public Optional<String> address() {
        return host.matches("\\d{1,3}(\\.\\d{1,3}){3}") ? Optional.of(host) : Optional.empty();
    }
}
