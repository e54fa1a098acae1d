package org.hearth.registry;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Update;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A registry on loopback in front of a real Knot for its zone, one per test class (a static
 * {@code @RegisterExtension}); restartable on the same state. Shared with the end-to-end tests
 * (the tests module) through this module's test jar. {@link #inWorld} places it in a simulated
 * internet instead, started and stopped by the test that built that world.
 */
public final class TestRegistry implements BeforeAllCallback, AfterAllCallback {

    public static final String ZONE = "boxes.hearth.test";
    Knot knot;
    private final String namespace;
    private final String dnsAddress;
    private final String httpAddress;
    private final Optional<RegistryService.Https> https;
    private Optional<Path> catalog = Optional.empty();
    private Path dir;
    private RegistryService service;

    public TestRegistry() {
        this(null, "127.0.0.1", "127.0.0.1", Optional.empty());
    }

    private TestRegistry(String namespace, String dnsAddress, String httpAddress, Optional<RegistryService.Https> https) {
        this.namespace = namespace;
        this.dnsAddress = dnsAddress;
        this.httpAddress = httpAddress;
        this.https = https;
    }

    /** On loopback, serving HTTPS with the PEM chain and key in these files. */
    public static TestRegistry overHttps(Path chain, Path key) {
        return new TestRegistry(null, "127.0.0.1", "127.0.0.1", Optional.of(new RegistryService.Https(chain, key)));
    }

    /**
     * The zone's server inside network namespace {@code namespace} at {@code dnsAddress}, port 53
     * (the internet's, where anyone's resolver asks), and the registry's HTTP service on this host's
     * {@code httpAddress}: the world's routers decide from which address each box's requests come.
     */
    public static TestRegistry inWorld(String namespace, String dnsAddress, String httpAddress) {
        return new TestRegistry(namespace, dnsAddress, httpAddress, Optional.empty());
    }

    /** Serves this catalog folder under /catalog/ as well (set before it starts). */
    public TestRegistry withCatalog(Path folder) {
        catalog = Optional.of(folder);
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    /** Starts Knot and the registry (what {@link #beforeAll} does for an extension). */
    public void start() throws Exception {
        dir = Files.createTempDirectory("hearth-registry-test");
        knot = namespace == null ? new Knot(dir.resolve("knot"), ZONE) : new Knot(dir.resolve("knot"), ZONE, namespace, dnsAddress, 53);
        service = start(0);
    }

    private RegistryService start(int port) throws Exception {
        return RegistryService.start(ZONE, new InetSocketAddress(knot.address, knot.port),
                new TSIG(TSIG.HMAC_SHA256, knot.keyName, knot.secret), dir.resolve("registry"),
                new InetSocketAddress(httpAddress, port), Clock.systemUTC(), true, List.of(knot.address + ":" + knot.port), https,
                catalog);
    }

    public int port() {
        return service.port();
    }

    /** The zone's authoritative server (Knot): where a test reads what the registry published. */
    public int dnsPort() {
        return knot.port;
    }

    /** The address of the zone's authoritative server. */
    public String dnsAddress() {
        return knot.address;
    }

    /**
     * Deletes a record set at the zone's server behind the registry's back (signed with its TSIG
     * key): what a mistaken operator or a failed transfer would leave, for checks that must notice.
     */
    public void deleteAtTheServer(String name, int type) throws IOException {
        Update update = new Update(Name.fromString(ZONE + "."));
        update.delete(Name.fromString(name + "."), type);
        SimpleResolver server = new SimpleResolver(new InetSocketAddress(knot.address, knot.port));
        server.setTSIGKey(new TSIG(TSIG.HMAC_SHA256, knot.keyName, knot.secret));
        Message answer = server.send(update);
        if (answer.getRcode() != Rcode.NOERROR) {
            throw new IOException("the server refused the deletion: " + Rcode.string(answer.getRcode()));
        }
    }

    /** Stops the registry and starts it again on its database, as after a crash or an upgrade. */
    public void restart() throws Exception {
        int port = service.port();
        service.stop();
        // On the same port: its clients keep their address across the restart.
        service = start(port);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        close();
    }

    /** Stops the registry and Knot and removes their state. */
    public void close() throws Exception {
        if (service != null) {
            service.stop();
        }
        if (knot != null) {
            knot.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            // A leftover temporary folder is no failure of the registry.
        }
    }
}
