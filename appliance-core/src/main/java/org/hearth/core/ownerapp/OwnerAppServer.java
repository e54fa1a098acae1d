package org.hearth.core.ownerapp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.hearth.core.HearthHome;
import org.hearth.core.catalog.CatalogException;
import org.hearth.core.catalog.CatalogIndex;
import org.hearth.core.catalog.CatalogInstaller;
import org.hearth.core.catalog.Catalogs;
import org.hearth.core.certificates.BoxCertificate;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.overlay.QrCode;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.supervisor.InstalledApps;
import org.hearth.core.supervisor.OverlayDevices;
import org.hearth.core.supervisor.PairingSetup;
import org.hearth.core.supervisor.Supervisor;
import org.hearth.core.supervisor.SupervisorStatus;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.KeyVault;
import org.hearth.registry.protocol.OwnerAppFiles;
import org.hearth.tls.ServerKeys;
import org.hearth.tls.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The owner app's second half, served by the box itself after pairing: on the overlay's address
 * only (bound while the overlay has one, closed while it has none, as private ports are), over
 * HTTPS with the box's certificate for {@code box.NAME} (a self-signed one until it exists). The
 * owner logs in with the box's password (the storage passphrase, which pairing set); after a
 * restart that same login unlocks the storage, so a power cut needs no shell. Then: the box's apps
 * and their health, the catalogs' apps to install or remove with a tap, the mail settings, the
 * certificates, and the owner's devices on the overlay — add one (its WireGuard configuration and
 * QR code, shown once) or remove one.
 *
 * <p>It runs in the supervisor because it changes what only the supervisor may (the overlay's
 * peers, the storage's key); only the owner's devices reach it, and every request but the pages
 * and the login needs a session. Wrong passwords share the storage's throttle; logins run one at a
 * time (each derives a 64 MiB Argon2id key).
 */
public final class OwnerAppServer implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(OwnerAppServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LOOK_EVERY = Duration.ofSeconds(2);
    private static final int MAX_BODY = 4096;
    /** How long an upgraded app has to be healthy before the owner app's upgrade is rolled back. */
    private static final Duration UPGRADE_DEADLINE = Duration.ofMinutes(5);
    private static final Pattern DEVICE = Pattern.compile("[a-z0-9][a-z0-9-]{0,30}");

    private final HearthHome home;
    private final Supervisor supervisor;
    private final OverlayDevices devices;
    private final PairingSetup mail;
    private final PairingState pairing;
    private final CatalogInstaller catalog;
    /** How often the apps page may ask the catalogs for new releases. */
    private static final Duration CATALOG_CHECK_INTERVAL = Duration.ofMinutes(1);
    private final int port;
    private final OwnerSessions sessions = new OwnerSessions(Clock.systemUTC());
    private final OwnerAppFiles files = new OwnerAppFiles(Map.of(
            "/", "box.html",
            "/box.js", "box.js",
            "/settings.js", "settings.js",
            "/app.css", "app.css",
            "/icon.svg", "icon.svg",
            "/manifest.webmanifest", "manifest.webmanifest"));
    private final Object loginLock = new Object();
    // The JDK's HTTPS server reads a connection's handshake and request on one of these threads: a browser's
    // idle preconnections hold one each until they send or the supervisor's maxReqTime (30 s) closes them.
    private final ExecutorService requests = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "owner-app");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean running = true;
    private HttpsServer server;
    /** The overlay address and domain {@link #server} serves for; null while none runs. */
    private String servingFor;
    private String lastProblem;

    public OwnerAppServer(HearthHome home, Supervisor supervisor, OverlayDevices devices, PairingSetup mail,
                          CatalogInstaller catalog, int port) {
        this.home = home;
        this.catalog = catalog;
        this.supervisor = supervisor;
        this.devices = devices;
        this.mail = mail;
        this.pairing = new PairingState(home.state().resolve("pairing"));
        this.port = port;
    }

    /** The host name the owner app has on a paired box. */
    public static String host(String domain) {
        return "box." + domain;
    }

    public void stop() {
        running = false;
    }

    @Override
    public void run() {
        try {
            while (running) {
                try {
                    follow(supervisor.overlayAddress(), pairing.domain().orElse(BoxName.UNPAIRED));
                } catch (IOException | RuntimeException e) {
                    problem("cannot serve the owner app: " + e.getMessage());
                }
                Thread.sleep(LOOK_EVERY.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            requests.shutdownNow();
        }
    }

    /** Listens on the overlay's address under the box's name, or on none while the overlay has no address. */
    private void follow(Optional<InetAddress> address, String domain) throws IOException {
        String wanted = address.map(a -> a.getHostAddress() + " " + domain).orElse(null);
        if (Objects.equals(wanted, servingFor)) {
            return;
        }
        close();
        if (address.isEmpty()) {
            return;
        }
        String host = host(domain);
        Path certificate = BoxCertificate.folder(home.state().resolve("certificates"), host);
        TlsIdentity selfSigned = TlsIdentity.stored(home.stateDir("owner-app").resolve(host + ".p12"), host);
        HttpsServer https = HttpsServer.create(new InetSocketAddress(address.get(), port), 16);
        https.setHttpsConfigurator(new HttpsConfigurator(ServerKeys.context(certificate.resolve(BoxCertificate.CHAIN),
                certificate.resolve(BoxCertificate.KEY), selfSigned)));
        https.createContext("/", this::handle);
        https.setExecutor(requests);
        https.start();
        server = https;
        servingFor = wanted;
        lastProblem = null;
        LOG.info("event=owner-app-listening address={} port={} host={}", address.get().getHostAddress(), port, host);
    }

    private void close() {
        if (server != null) {
            server.stop(0);
            server = null;
            LOG.info("event=owner-app-closed was=\"{}\"", servingFor);
            servingFor = null;
        }
    }

    private void problem(String text) {
        if (!text.equals(lastProblem)) {
            LOG.warn("event=owner-app-problem error=\"{}\" retry_s={}", text, LOOK_EVERY.toSeconds());
            lastProblem = text;
        }
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            OwnerAppFiles.SECURITY_HEADERS.forEach(x.getResponseHeaders()::set);
            String path = x.getRequestURI().getPath();
            if (!path.startsWith("/v1/")) {
                page(x, path);
            } else if (!sameOrigin(x)) {
                answer(x, 403, error("a request from another site"));
            } else {
                api(x, x.getRequestMethod(), path);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            answer(x, 400, error("a request your box cannot read: " + e.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("event=owner-app-request-failed path={} error=\"{}\"", x.getRequestURI().getPath(), e.toString(), e);
            answer(x, 500, error("your box could not answer: " + e.getMessage()));
        }
    }

    private void page(HttpExchange x, String path) throws IOException {
        Optional<String> file = files.file(path);
        boolean head = x.getRequestMethod().equals("HEAD");
        if (file.isEmpty() || !(head || x.getRequestMethod().equals("GET"))) {
            x.sendResponseHeaders(404, -1);
            return;
        }
        OwnerAppFiles.headers(file.get()).forEach(x.getResponseHeaders()::set);
        byte[] body = files.content(file.get());
        x.sendResponseHeaders(200, head ? -1 : body.length);
        if (!head) {
            x.getResponseBody().write(body);
        }
    }

    /**
     * Another site's page cannot act for the owner: the session cookie is same-site strict, a
     * browser sends {@code Origin} with every request that changes something, and JSON bodies
     * cannot come from a plain form.
     */
    private static boolean sameOrigin(HttpExchange x) {
        String origin = x.getRequestHeaders().getFirst("Origin");
        String host = x.getRequestHeaders().getFirst("Host");
        if (x.getRequestMethod().equals("GET")) {
            return origin == null || origin.equals("https://" + host);
        }
        String type = Optional.ofNullable(x.getRequestHeaders().getFirst("Content-Type")).orElse("");
        return origin != null && origin.equals("https://" + host)
                && (!x.getRequestMethod().equals("POST") || type.startsWith("application/json"));
    }

    private void api(HttpExchange x, String method, String path) throws IOException {
        Optional<String> cookie = Optional.ofNullable(x.getRequestHeaders().getFirst("Cookie"));
        if (method.equals("POST") && path.equals("/v1/login")) {
            login(x);
            return;
        }
        if (method.equals("POST") && path.equals("/v1/logout")) {
            sessions.close(cookie);
            x.getResponseHeaders().set("Set-Cookie", OwnerSessions.clearCookie());
            answer(x, 200, JSON.createObjectNode());
            return;
        }
        if (!sessions.touch(cookie)) {
            answer(x, 401, error("log in with your box's password"));
            return;
        }
        if (method.equals("GET") && path.equals("/v1/box")) {
            answer(x, 200, box());
        } else if (method.equals("GET") && path.equals("/v1/catalog")) {
            answer(x, 200, catalogApps());
        } else if (method.equals("POST") && path.equals("/v1/apps")) {
            installApp(x, body(x).path("name").asText(""));
        } else if (method.equals("POST") && path.startsWith("/v1/apps/") && path.endsWith("/upgrade")) {
            upgradeApp(x, path.substring("/v1/apps/".length(), path.length() - "/upgrade".length()));
        } else if (method.equals("DELETE") && path.startsWith("/v1/apps/")) {
            removeApp(x, path.substring("/v1/apps/".length()));
        } else if (method.equals("GET") && path.equals("/v1/devices")) {
            answer(x, 200, deviceList(x.getRemoteAddress().getAddress()));
        } else if (method.equals("POST") && path.equals("/v1/devices")) {
            addDevice(x, body(x).path("name").asText(""));
        } else if (method.equals("DELETE") && path.startsWith("/v1/devices/")) {
            String name = path.substring("/v1/devices/".length());
            try {
                answer(x, 200, JSON.createObjectNode().put("message", devices.remove(name)));
            } catch (IllegalArgumentException e) {
                answer(x, 404, error("your box has no device named " + name));
            }
        } else {
            answer(x, 404, error("no such request: " + method + " " + path));
        }
    }

    /** The box's password opens a session; on a locked box it unlocks the storage too. */
    private void login(HttpExchange x) throws IOException {
        JsonNode body = body(x);
        char[] password = body.path("password").asText("").toCharArray();
        try {
            if (!supervisor.passphraseSet()) {
                answer(x, 409, error("This box has no password yet. Pair it from your phone first (hearth pair on the box)."));
                return;
            }
            boolean wasLocked = supervisor.storageLocked();
            synchronized (loginLock) {
                if (wasLocked) {
                    supervisor.unlock(password);
                } else {
                    supervisor.checkPassphrase(password);
                }
            }
            LOG.info("event=owner-app-login from={} unlocked={}", x.getRemoteAddress().getAddress().getHostAddress(), wasLocked);
            x.getResponseHeaders().set("Set-Cookie", OwnerSessions.setCookie(sessions.open()));
            answer(x, 200, JSON.createObjectNode().put("unlocked", wasLocked));
        } catch (KeyVault.WrongPassphraseException e) {
            LOG.warn("event=owner-app-login-refused from={}", x.getRemoteAddress().getAddress().getHostAddress());
            answer(x, 401, error("That is not your box's password."));
        } catch (AppVolumes.ThrottledException e) {
            answer(x, 429, error("Too many wrong passwords: " + e.getMessage().replaceFirst("^too many wrong passphrases: ", "")
                    + "."));
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private ObjectNode box() throws IOException {
        ObjectNode box = JSON.createObjectNode();
        Optional<PairingState.Paired> paired = pairing.paired();
        String domain = pairing.domain().orElse(BoxName.UNPAIRED);
        box.put("name", domain);
        box.put("paired", paired.isPresent());
        box.put("storage", supervisor.storageLocked() ? "locked" : "unlocked");
        ArrayNode apps = box.putArray("apps");
        Optional<SupervisorStatus> status = SupervisorStatus.readFrom(Supervisor.statusFile(home));
        status.ifPresent(s -> s.apps().forEach(app -> {
            ObjectNode a = apps.addObject().put("name", app.app()).put("version", app.version())
                    .put("state", app.state().label());
            app.problem().ifPresent(p -> a.put("problem", p));
        }));
        status.ifPresent(s -> box.put("overlay", s.overlay().provider()));
        ObjectNode settings = box.putObject("mail");
        mail.mailSettings(paired.map(PairingState.Paired::address).orElse("your address"), domain).forEach(settings::put);
        ArrayNode certificates = box.putArray("certificates");
        Path dir = home.state().resolve("certificates");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> hosts = Files.list(dir)) {
                for (Path folder : hosts.filter(Files::isDirectory).sorted().toList()) {
                    BoxCertificate.read(folder).ifPresent(c -> certificates.addObject()
                            .put("host", folder.getFileName().toString())
                            .put("issuer", c.chain().get(0).getIssuerX500Principal().getName())
                            .put("notAfter", c.notAfter().toString()));
                }
            }
        }
        return box;
    }

    /** What the catalogs offer: each app's newest release, its icon, and the version installed here, if any. */
    private ObjectNode catalogApps() {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode list = answer.putArray("apps");
        ArrayNode problems = answer.putArray("problems");
        Map<String, String> installed = new java.util.HashMap<>();
        new InstalledApps(home.stateDir("apps")).list().forEach(i -> i.manifest().ifPresent(m -> installed.put(i.app(), m.version())));
        java.util.Set<String> listed = new java.util.HashSet<>();
        Catalogs catalogs = catalog.catalogs();
        answer.put("sources", catalogs.sources().size());
        // New releases show within a minute of being published; a failed check keeps the held index.
        try {
            catalogs.refreshIfOlderThan(CATALOG_CHECK_INTERVAL).forEach(r -> r.problem().ifPresent(p ->
                    problems.add(r.source().name() + ": could not check for new releases: " + p)));
        } catch (RuntimeException e) {
            problems.add("could not check for new releases: " + e.getMessage());
        }
        for (Catalogs.Held held : catalogs.held()) {
            held.problem().ifPresent(p -> problems.add(held.source().name() + ": " + p));
            for (CatalogIndex.App app : held.index().map(CatalogIndex::apps).orElse(java.util.List.of())) {
                // A release for other boxes' architecture only is nothing this box can install.
                Optional<CatalogIndex.Release> newest = app.latestFor(catalogs.arch());
                if (newest.isEmpty() || !listed.add(app.name())) {
                    continue;
                }
                ObjectNode a = list.addObject().put("name", app.name()).put("description", app.description())
                        .put("version", newest.get().version()).put("catalog", held.source().name());
                Optional.ofNullable(installed.get(app.name())).ifPresent(v -> a.put("installed", v)
                        .put("newer", app.offersNewerThan(v, catalogs.arch())));
                catalogs.icon(held.source(), app).ifPresent(svg ->
                        a.put("icon", "data:image/svg+xml;base64," + Base64.getEncoder().encodeToString(svg)));
            }
        }
        return answer;
    }

    /** Installs an app from the catalogs as hearth app install NAME does; the answer waits for the images, not for health. */
    private void installApp(HttpExchange x, String name) throws IOException {
        if (!DEVICE.matcher(name).matches()) {
            answer(x, 400, error("No app is called " + name + "."));
            return;
        }
        try {
            String told = catalog.install(name, Optional.empty(), supervisor::install);
            LOG.info("event=owner-app-install app={}", name);
            answer(x, 200, JSON.createObjectNode().put("message", told));
        } catch (CatalogException | IllegalArgumentException e) {
            answer(x, 409, error("Your box could not install " + name + ": " + e.getMessage()));
        }
    }

    /** Upgrades an app to the newest release as hearth app upgrade NAME does; the answer comes once it runs or is rolled back. */
    private void upgradeApp(HttpExchange x, String name) throws IOException {
        Optional<String> installed = supervisor.manifest(name).map(org.hearth.core.manifest.AppManifest::version);
        if (installed.isEmpty()) {
            answer(x, 404, error("No app called " + name + " is installed."));
            return;
        }
        try {
            String told = catalog.upgrade(name, installed.get(), Optional.empty(), UPGRADE_DEADLINE, supervisor::upgrade);
            LOG.info("event=owner-app-upgrade app={}", name);
            answer(x, 200, JSON.createObjectNode().put("message", told));
        } catch (Supervisor.RolledBackException | CatalogException e) {
            answer(x, 409, error(e.getMessage()));
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private void removeApp(HttpExchange x, String name) throws IOException {
        if (new InstalledApps(home.stateDir("apps")).list().stream().noneMatch(i -> i.app().equals(name))) {
            answer(x, 404, error("No app called " + name + " is installed."));
            return;
        }
        LOG.info("event=owner-app-remove app={}", name);
        answer(x, 200, JSON.createObjectNode().put("message", supervisor.remove(name, false)));
    }

    private ObjectNode deviceList(InetAddress from) {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode list = answer.putArray("devices");
        for (OverlayDevices.Device d : devices.list()) {
            ObjectNode device = list.addObject().put("name", d.name()).put("provider", d.provider());
            d.address().ifPresent(a -> device.put("address", a));
            // The owner is told which one is the device in hand before removing it.
            device.put("thisDevice", d.address().filter(a -> a.equals(from.getHostAddress())).isPresent());
        }
        return answer;
    }

    private void addDevice(HttpExchange x, String name) throws IOException {
        if (!DEVICE.matcher(name).matches()) {
            answer(x, 400, error("Name the device with 1 to 31 lower-case letters, digits and dashes, such as laptop."));
            return;
        }
        OverlayDevices.Added added;
        try {
            added = devices.add(name, Optional.empty());
        } catch (IllegalArgumentException e) {
            answer(x, 409, error("A device named " + name + " exists already; remove it first to give it a new key."));
            return;
        }
        ObjectNode answer = JSON.createObjectNode().put("name", name).put("message", added.message());
        added.configuration().ifPresent(config -> answer.put("configuration", config)
                .put("qr", "data:image/png;base64," + Base64.getEncoder().encodeToString(QrCode.of(config).png(4))));
        answer(x, 200, answer);
    }

    private static JsonNode body(HttpExchange x) throws IOException {
        try (InputStream in = x.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new IllegalArgumentException("the request is larger than " + MAX_BODY + " bytes");
            }
            return bytes.length == 0 ? JSON.createObjectNode() : JSON.readTree(bytes);
        }
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static void answer(HttpExchange x, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.getResponseHeaders().set("Cache-Control", "no-store");
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
    }
}
