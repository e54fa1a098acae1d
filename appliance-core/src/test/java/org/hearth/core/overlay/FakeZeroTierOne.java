package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for zerotier-one's local JSON API on 127.0.0.1: the routes, status codes and field names of the
 * daemon's service and controller APIs (zerotier/ZeroTierOne service/README.md, controller/README.md,
 * service/OneService.cpp), with state the test changes between passes the way the real network would.
 */
final class FakeZeroTierOne implements AutoCloseable {

    static final String TOKEN = "p9x4kq2m7v1c8z3r5t6y0w2e";
    static final String NODE = "9935981b1e";

    /** One request as the daemon received it. */
    record Request(String method, String path, String body) {
        @Override
        public String toString() {
            return method + " " + path + (body.isEmpty() ? "" : " " + body);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NETWORK = Pattern.compile("/network/([0-9a-f]{16})");
    private static final Pattern CREATE = Pattern.compile("/controller/network/([0-9a-f]{10})______");
    private static final Pattern MEMBERS = Pattern.compile("/controller/network/([0-9a-f]{16})/member");
    private static final Pattern MEMBER = Pattern.compile("/controller/network/([0-9a-f]{16})/member/([0-9a-f]{10})");

    private final HttpServer server;
    private final Path home;
    private final List<Request> requests = new ArrayList<>();
    /** Networks this node has joined, as GET /network/NWID reports them. */
    private final Map<String, ObjectNode> joined = new LinkedHashMap<>();
    /** Networks this node's controller hosts, and their members. */
    private final Map<String, ObjectNode> hosted = new LinkedHashMap<>();
    private final Map<String, Map<String, ObjectNode>> members = new LinkedHashMap<>();
    private int created;

    static {
        // Without it the JDK server's Nagle delays meet the client's delayed ACKs: ~40 ms per request.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    FakeZeroTierOne(Path home) throws IOException {
        this.home = home;
        Files.writeString(home.resolve("authtoken.secret"), TOKEN);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    ZeroTierSettings settings(String network) {
        return new ZeroTierSettings(Optional.of(network), api(), home);
    }

    String api() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** What the controller behind the network says now: status, name and assignments (IPv6 and IPv4 alike). */
    synchronized void network(String nwid, String status, String name, String... assignedAddresses) {
        ObjectNode n = joined.get(nwid);
        n.put("status", status).put("name", name);
        ArrayNode addresses = n.putArray("assignedAddresses");
        for (String a : assignedAddresses) {
            addresses.add(a);
        }
        n.put("netconfRevision", n.path("netconfRevision").asInt() + 1);
    }

    synchronized void set(String nwid, String field, boolean value) {
        joined.get(nwid).put(field, value);
    }

    synchronized void set(String nwid, String field, String value) {
        joined.get(nwid).put(field, value);
    }

    /** The network is gone from the daemon, as after {@code zerotier-cli leave} or a controller deleting it. */
    synchronized void leave(String nwid) {
        joined.remove(nwid);
    }

    synchronized boolean isJoined(String nwid) {
        return joined.containsKey(nwid);
    }

    /** A node that asked to join: the controller knows it, but nobody authorized it yet. */
    synchronized void memberAsksToJoin(String nwid, String memberId) {
        members.get(nwid).computeIfAbsent(memberId, k -> newMember(nwid, k));
    }

    synchronized Optional<ObjectNode> hostedNetwork(String nwid) {
        return Optional.ofNullable(hosted.get(nwid));
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Reply reply;
            synchronized (this) {
                requests.add(new Request(method, path, body));
                // Like the daemon, answer 401 with an empty object before looking at the route.
                reply = TOKEN.equals(exchange.getRequestHeaders().getFirst("X-ZT1-Auth"))
                        ? route(method, path, body) : new Reply(401, JSON.createObjectNode());
            }
            byte[] bytes = JSON.writeValueAsBytes(reply.body());
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private record Reply(int status, JsonNode body) {
    }

    private Reply route(String method, String path, String body) throws IOException {
        Matcher m;
        if (method.equals("GET") && path.equals("/status")) {
            return ok(status());
        }
        if ((m = NETWORK.matcher(path)).matches()) {
            String nwid = m.group(1);
            if (method.equals("GET")) {
                return joined.containsKey(nwid) ? ok(joined.get(nwid)) : notFound();
            }
            if (method.equals("POST")) {
                return ok(joined.computeIfAbsent(nwid, FakeZeroTierOne::newlyJoined));
            }
            if (method.equals("DELETE")) {
                joined.remove(nwid);
                return ok(JSON.createObjectNode().put("result", true));
            }
        }
        if (method.equals("POST") && (m = CREATE.matcher(path)).matches() && m.group(1).equals(NODE)) {
            return ok(createNetwork(JSON.readTree(body)));
        }
        if (method.equals("GET") && (m = MEMBERS.matcher(path)).matches()) {
            if (!hosted.containsKey(m.group(1))) {
                return notFound();
            }
            ObjectNode revisions = JSON.createObjectNode();
            members.get(m.group(1)).forEach((id, member) -> revisions.put(id, member.path("revision").asInt()));
            return ok(revisions);
        }
        if ((m = MEMBER.matcher(path)).matches()) {
            String nwid = m.group(1);
            String id = m.group(2);
            if (!hosted.containsKey(nwid)) {
                return notFound();
            }
            if (method.equals("GET")) {
                return members.get(nwid).containsKey(id) ? ok(members.get(nwid).get(id)) : notFound();
            }
            if (method.equals("POST")) {
                ObjectNode member = members.get(nwid).computeIfAbsent(id, k -> newMember(nwid, k));
                JsonNode change = JSON.readTree(body);
                if (change.has("authorized")) {
                    member.put("authorized", change.get("authorized").asBoolean());
                }
                member.put("revision", member.path("revision").asInt() + 1);
                return ok(member);
            }
        }
        return notFound();
    }

    private ObjectNode status() {
        ObjectNode s = JSON.createObjectNode();
        s.put("address", NODE);
        s.put("publicIdentity", NODE + ":0:5cb99fadea4bfe66c7226805a436a4f75883f33d7a1b5da2af75e8907693ed5f");
        s.put("online", true);
        s.put("tcpFallbackActive", false);
        s.put("version", "1.14.2");
        s.put("versionMajor", 1).put("versionMinor", 14).put("versionRev", 2).put("versionBuild", 0);
        s.put("clock", 1_700_000_000_000L);
        s.putObject("config").putObject("settings").put("primaryPort", 9993).put("allowTcpFallbackRelay", true);
        s.put("planetWorldId", 149604618L).put("planetWorldTimestamp", 1_644_592_324_813L);
        return s;
    }

    /** What the daemon reports right after a join: no configuration from the controller yet. */
    private static ObjectNode newlyJoined(String nwid) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", nwid).put("nwid", nwid).put("mac", "26:27:46:81:5c:34").put("name", "");
        n.put("status", "REQUESTING_CONFIGURATION").put("type", "PRIVATE").put("mtu", 2800);
        n.put("dhcp", false).put("bridge", false).put("broadcastEnabled", false);
        n.put("portError", 0).put("netconfRevision", 0);
        n.putArray("assignedAddresses");
        n.putArray("routes");
        n.putArray("multicastSubscriptions");
        n.put("portDeviceName", "ztks575eoa");
        n.put("allowManaged", true).put("allowGlobal", false).put("allowDefault", false).put("allowDNS", false);
        n.putObject("dns").put("domain", "").putArray("servers");
        return n;
    }

    private ObjectNode createNetwork(JsonNode request) {
        String nwid = NODE + String.format("%06x", ++created);
        ObjectNode n = ((ObjectNode) request).deepCopy();
        n.put("id", nwid).put("nwid", nwid).put("objtype", "network").put("revision", 1);
        n.put("creationTime", 1_700_000_000_000L);
        hosted.put(nwid, n);
        members.put(nwid, new LinkedHashMap<>());
        return n;
    }

    private static ObjectNode newMember(String nwid, String id) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", id).put("address", id).put("nwid", nwid).put("objtype", "member");
        m.put("authorized", false).put("activeBridge", false).put("revision", 0);
        m.putArray("ipAssignments");
        return m;
    }

    private static Reply ok(JsonNode body) {
        return new Reply(200, body);
    }

    private static Reply notFound() {
        return new Reply(404, JSON.createObjectNode());
    }
}
