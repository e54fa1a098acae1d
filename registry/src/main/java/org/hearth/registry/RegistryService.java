package org.hearth.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.hearth.registry.protocol.SignedRequest;
import org.hearth.tls.ServerKeys;
import org.hearth.tls.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.TSIG;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry's HTTP API (JSON):
 * <ul>
 *   <li>{@code GET /v1/names/NAME}: whether NAME can be had.</li>
 *   <li>{@code POST /v1/names/NAME}, body {@code {"publicKey": ...}}, signed by that key: the box claims NAME.</li>
 *   <li>{@code PUT /v1/boxes/BOX/addresses}, body {@code {"addresses": [...]}}, signed by the box's key:
 *       its public addresses, published as NAME's A and AAAA records.</li>
 *   <li>{@code PUT /v1/boxes/BOX/records}, body {@code {"records": [{"owner", "type", "data"}]}}, signed
 *       by the box's key: its other records under NAME (MX, TXT, SRV, CNAME, CAA, TLSA).</li>
 *   <li>{@code GET /v1/info}: the zone and its authoritative servers.</li>
 *   <li>The pairing relay ({@link PairingRelay}): {@code PUT /v1/pairing/CHANNEL} with {@code {"closeHash"}}
 *       (the box opens it), {@code POST} and {@code GET /v1/pairing/CHANNEL/to-box|to-phone?after=N&wait=S}
 *       (sealed messages each way, polls waiting up to S seconds), {@code DELETE /v1/pairing/CHANNEL} with
 *       {@code Hearth-Close-Token} (paired: the code is used up).</li>
 *   <li>Everything outside {@code /v1/}: the owner app ({@link OwnerApp}).</li>
 * </ul>
 * Signed requests carry {@code Hearth-Signed} (milliseconds) and {@code Hearth-Signature} (Ed25519
 * over {@link SignedRequest#text}). Settings (environment): REGISTRY_ZONE, REGISTRY_DNS (the
 * authoritative server, host:port), REGISTRY_NAMESERVERS (the zone's servers as the world reaches them,
 * host:port, comma-separated; REGISTRY_DNS if unset), REGISTRY_TSIG (a file holding "name algorithm base64-secret"),
 * REGISTRY_DATA (its database's folder), REGISTRY_LISTEN (host:port), REGISTRY_TEST_WORLD=yes (a test
 * world: boxes may publish addresses in the benchmarking and documentation blocks), REGISTRY_TLS_CHAIN and
 * REGISTRY_TLS_KEY (HTTPS: a PEM certificate chain and its PKCS#8 key, taken up again when replaced),
 * REGISTRY_CATALOG (a signed app catalog's folder, served as it is under /catalog/: docs/catalog.md).
 */
public final class RegistryService {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryService.class);
    private static final Pattern NAME = Pattern.compile("/v1/names/([^/]{1,64})");
    private static final Pattern ADDRESSES = Pattern.compile("/v1/boxes/([0-9a-f]{32})/addresses");
    private static final Pattern RECORDS = Pattern.compile("/v1/boxes/([0-9a-f]{32})/records");
    private static final Pattern PAIRING = Pattern.compile("/v1/pairing/([0-9a-f]{32})");
    private static final Pattern PAIRING_MESSAGES = Pattern.compile("/v1/pairing/([0-9a-f]{32})/(to-box|to-phone)");
    private static final int MAX_BODY = 16 * 1024;
    /** Enough for every long poll the relay lets wait and the short requests beside them. */
    static final int THREADS = PairingRelay.MAX_WAITING + 50;

    /** The header a box closes its pairing channel with. */
    static final String CLOSE_TOKEN = "Hearth-Close-Token";

    private final Server server;
    private final RegistryStore store;

    /**
     * HTTPS with this certificate chain and key (PEM, as certbot or the box's own ACME writes them):
     * served by the registry itself, so {@code fromRequest} sees the box's own address, not a proxy's.
     * Replaced files are offered from the next handshake on (server-tls's {@link ServerKeys}).
     */
    record Https(Path chain, Path key) {
        Https {
            for (Path file : List.of(chain, key)) {
                if (!Files.isReadable(file)) {
                    throw new IllegalArgumentException("REGISTRY_TLS_CHAIN and REGISTRY_TLS_KEY: cannot read " + file);
                }
            }
        }
    }

    private RegistryService(Server server, RegistryStore store) {
        this.server = server;
        this.store = store;
    }

    public static void main(String[] args) throws Exception {
        String[] tsig = Files.readString(Path.of(env("REGISTRY_TSIG"))).strip().split("\\s+");
        if (tsig.length != 3) {
            throw new IllegalArgumentException(env("REGISTRY_TSIG") + ": expected \"name algorithm base64-secret\"");
        }
        String nameservers = System.getenv("REGISTRY_NAMESERVERS");
        String chain = System.getenv("REGISTRY_TLS_CHAIN");
        String key = System.getenv("REGISTRY_TLS_KEY");
        if ((chain == null) != (key == null)) {
            throw new IllegalArgumentException("REGISTRY_TLS_CHAIN and REGISTRY_TLS_KEY go together: set both, or neither for HTTP");
        }
        start(env("REGISTRY_ZONE"), hostPort(env("REGISTRY_DNS")), new TSIG(tsig[1], tsig[0], tsig[2]),
                Path.of(env("REGISTRY_DATA")), hostPort(env("REGISTRY_LISTEN")), Clock.systemUTC(),
                "yes".equals(System.getenv("REGISTRY_TEST_WORLD")),
                List.of((nameservers == null || nameservers.isBlank() ? env("REGISTRY_DNS") : nameservers).split("\\s*,\\s*")),
                chain == null ? Optional.empty() : Optional.of(new Https(Path.of(chain), Path.of(key))),
                Optional.ofNullable(System.getenv("REGISTRY_CATALOG")).filter(c -> !c.isBlank()).map(Path::of));
    }

    /**
     * Starts the registry; it answers on {@link #port()} until {@link #stop()}.
     *
     * @param nameservers the zone's authoritative servers as the world reaches them (host:port): boxes
     *                    check what was published there (hearth status)
     * @param https       its certificate, or empty for plain HTTP (loopback and test worlds)
     * @param catalog     a signed app catalog's folder to serve under /catalog/; the boxes verify what it holds
     */
    static RegistryService start(String zone, InetSocketAddress dnsServer, TSIG key, Path data, InetSocketAddress listen,
                                 Clock clock, boolean testWorld, List<String> nameservers, Optional<Https> https,
                                 Optional<Path> catalog) throws Exception {
        Files.createDirectories(data);
        // Derby writes its log beside its database, never into the working folder.
        if (System.getProperty("derby.stream.error.file") == null) {
            System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        }
        RegistryStore store = new RegistryStore(data);
        Registry registry = new Registry(store, new DnsPublisher(dnsServer, zone, key), clock,
                new RateLimit(10, 500, Duration.ofHours(1)), new RateLimit(120, 10_000, Duration.ofMinutes(1)),
                new PublicAddresses(testWorld));
        PairingRelay relay = new PairingRelay(store, clock);
        Server server = new Server(new QueuedThreadPool(THREADS));
        ServerConnector connector = https.map(h -> httpsConnector(server, h, zone)).orElseGet(() -> new ServerConnector(server));
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        server.addConnector(connector);
        Api api = new Api(registry, relay, Map.of("zone", zone, "nameservers", List.copyOf(nameservers)),
                new RateLimit(120, 50_000, Duration.ofMinutes(1)), clock);
        server.setHandler(catalog.<Handler>map(folder -> new Handler.Sequence(catalogFiles(folder), api)).orElse(api));
        server.start();
        LOG.info("event=ready service=registry zone={} port={}", zone, connector.getLocalPort());
        return new RegistryService(server, store);
    }

    /** The catalog's files as they are (no listings): what they say is checked by each box against the catalog's signature. */
    private static Handler catalogFiles(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("REGISTRY_CATALOG: " + folder + " is not a folder");
        }
        ResourceHandler files = new ResourceHandler();
        files.setBaseResource(ResourceFactory.root().newResource(folder.toAbsolutePath()));
        files.setDirAllowed(false);
        files.setEtags(true);
        return new ContextHandler(files, "/catalog");
    }

    private static ServerConnector httpsConnector(Server server, Https https, String zone) {
        SslContextFactory.Server tls = new SslContextFactory.Server();
        // The self-signed identity is only what ServerKeys falls back on: the files were checked readable.
        tls.setSslContext(ServerKeys.context(https.chain(), https.key(), TlsIdentity.ephemeral(zone)));
        HttpConfiguration config = new HttpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        // Boxes may reach it by address in a test world; the certificate is checked by the client.
        secure.setSniHostCheck(false);
        secure.setStsMaxAge(Duration.ofDays(365).toSeconds());
        config.addCustomizer(secure);
        return new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(config));
    }

    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    void stop() throws Exception {
        server.stop();
        store.close();
    }

    private static final class Api extends Handler.Abstract {
        private final Registry registry;
        private final PairingRelay relay;
        private final Map<String, Object> info;
        private final RateLimit pairingRequests;
        private final Clock clock;
        private final OwnerApp app = new OwnerApp();
        private final ObjectMapper json = new ObjectMapper();

        Api(Registry registry, PairingRelay relay, Map<String, Object> info, RateLimit pairingRequests, Clock clock) {
            this.registry = registry;
            this.relay = relay;
            this.info = info;
            this.pairingRequests = pairingRequests;
            this.clock = clock;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = request.getHttpURI().getPath();
            String method = request.getMethod();
            String client = Request.getRemoteAddr(request);
            if (!path.startsWith("/v1/")) {
                return app.serve(request, response, callback);
            }
            Registry.Answer answer;
            try {
                Matcher name = NAME.matcher(path);
                Matcher addresses = ADDRESSES.matcher(path);
                Matcher records = RECORDS.matcher(path);
                Matcher pairing = PAIRING.matcher(path);
                Matcher messages = PAIRING_MESSAGES.matcher(path);
                if ((pairing.matches() || messages.matches()) && !pairingRequests.allow(client, clock.instant())) {
                    answer = Registry.Answer.error(429, "too many pairing requests from this address; wait a minute");
                } else if (path.equals("/v1/info") && method.equals("GET")) {
                    answer = new Registry.Answer(200, info);
                } else if (pairing.matches() && method.equals("PUT")) {
                    answer = relay.open(pairing.group(1), json.readTree(body(request)).path("closeHash").asText(null), client);
                } else if (pairing.matches() && method.equals("DELETE")) {
                    answer = relay.close(pairing.group(1), request.getHeaders().get(CLOSE_TOKEN));
                } else if (messages.matches() && method.equals("POST")) {
                    byte[] text = Content.Source.asInputStream(request).readNBytes(PairingRelay.MAX_MESSAGE + 1);
                    answer = relay.post(messages.group(1), messages.group(2), new String(text, StandardCharsets.US_ASCII));
                } else if (messages.matches() && method.equals("GET")) {
                    Fields query = Request.extractQueryParameters(request);
                    answer = relay.poll(messages.group(1), messages.group(2), intParameter(query, "after", 0),
                            Duration.ofSeconds(intParameter(query, "wait", 0)));
                } else if (name.matches() && method.equals("GET")) {
                    answer = registry.availability(name.group(1), client);
                } else if (name.matches() && method.equals("POST")) {
                    answer = registry.claim(name.group(1), body(request), signed(request), client);
                } else if (addresses.matches() && method.equals("PUT")) {
                    answer = registry.addresses(addresses.group(1), body(request), signed(request), client);
                } else if (records.matches() && method.equals("PUT")) {
                    answer = registry.records(records.group(1), body(request), signed(request));
                } else {
                    answer = Registry.Answer.error(404, "no such request: " + method + " " + path);
                }
            } catch (BadRequest e) {
                answer = Registry.Answer.error(400, e.getMessage());
            } catch (JsonProcessingException e) {
                answer = Registry.Answer.error(400, "the body is not JSON");
            } catch (Exception e) {
                LOG.warn("event=request-failed method={} path={} error={}", method, path, e.toString());
                answer = Registry.Answer.error(503, "the registry cannot do this now; try again later");
            }
            response.setStatus(answer.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.write(true, ByteBuffer.wrap(json.writeValueAsBytes(answer.body())), callback);
            return true;
        }

        private static int intParameter(Fields query, String name, int otherwise) throws BadRequest {
            String v = query.getValue(name);
            if (v == null) {
                return otherwise;
            }
            if (!v.matches("[0-9]{1,6}")) {
                throw new BadRequest(name + " must be a whole number");
            }
            return Integer.parseInt(v);
        }

        private static byte[] body(Request request) throws Exception {
            // Read no further than the limit: a body is small JSON, whatever its sender says.
            byte[] body = Content.Source.asInputStream(request).readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw new BadRequest("the body is larger than " + MAX_BODY + " bytes");
            }
            return body;
        }

        private static Registry.Signed signed(Request request) throws BadRequest {
            String when = request.getHeaders().get(SignedRequest.SIGNED);
            String signature = request.getHeaders().get(SignedRequest.SIGNATURE);
            if (when == null || signature == null || !when.matches("[0-9]{1,15}")) {
                throw new BadRequest("a signed request needs Hearth-Signed (milliseconds) and Hearth-Signature headers");
            }
            return new Registry.Signed(Long.parseLong(when), signature);
        }
    }

    private static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " is not set");
        }
        return v;
    }

    static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }
}
