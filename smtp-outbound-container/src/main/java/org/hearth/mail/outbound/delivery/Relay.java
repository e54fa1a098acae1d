package org.hearth.mail.outbound.delivery;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * The smarthost appliance.yaml names, as the supervisor hands it over: HEARTH_RELAY (host:port),
 * HEARTH_RELAY_USER, and in the read-only secrets folder the password (from the key vault) and any
 * CA certificates trusted for the relay beside the runtime's public ones. Both files are read at
 * each connection, so a password changed with {@code hearth secret set} is used at the next try;
 * the TLS made from the trust file is kept until its content changes.
 */
public final class Relay {

    public static final String PASSWORD_FILE = "relay-password";
    public static final String TRUST_FILE = "relay-trust.pem";

    private final String host;
    private final int port;
    private final Optional<String> username;
    private final Path secrets;
    /** The trust file's content {@link #tls} was made from (empty: no file), and what it made. */
    private byte[] trustedPem;
    private SSLContext tls;

    public Relay(String host, int port, Optional<String> username, Path secrets) {
        this.host = host;
        this.port = port;
        this.username = username;
        this.secrets = secrets;
    }

    /** The relay in this environment, if one is set. */
    public static Optional<Relay> fromEnvironment(Map<String, String> env, Path secrets) {
        String hostPort = env.getOrDefault("HEARTH_RELAY", "");
        if (hostPort.isBlank()) {
            return Optional.empty();
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("HEARTH_RELAY \"" + hostPort + "\" is not host:port");
        }
        String user = env.getOrDefault("HEARTH_RELAY_USER", "");
        return Optional.of(new Relay(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                user.isBlank() ? Optional.empty() : Optional.of(user), secrets));
    }

    /** Port 465 is TLS from the first byte (RFC 8314); any other port must offer STARTTLS. */
    public boolean implicitTls() {
        return port == 465;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Optional<String> username() {
        return username;
    }

    /** The read-only folder the supervisor hands the password and trust file in. */
    public Path secrets() {
        return secrets;
    }

    public String name() {
        return host + ":" + port;
    }

    /**
     * The login, when the relay wants one; empty with a reason when its password is not there (not
     * set in the vault, or storage locked), so the mail waits saying so.
     */
    public Optional<SmtpClient.Login> login() throws IOException {
        if (username.isEmpty()) {
            return Optional.empty();
        }
        Path file = secrets.resolve(PASSWORD_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException("the relay's password is not here (set it: hearth secret set " + PASSWORD_FILE
                    + "; after a restart: hearth unlock)");
        }
        String password = Files.readString(file, StandardCharsets.UTF_8).strip();
        return Optional.of(new SmtpClient.Login(username.get(), password));
    }

    /** The runtime's public CAs, plus the relay's own if the owner gave them: the relay's certificate is always checked. */
    public synchronized SSLContext tls() throws IOException {
        // Reading the small trust file costs little; loading the runtime's CAs for every message would not.
        Path file = secrets.resolve(TRUST_FILE);
        byte[] pem = Files.isRegularFile(file) ? Files.readAllBytes(file) : new byte[0];
        if (tls == null || !Arrays.equals(pem, trustedPem)) {
            tls = CheckedTls.context(pem);
            trustedPem = pem;
        }
        return tls;
    }
}
