package org.hearth.core.pairing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.registry.protocol.PairingKeys;
import org.hearth.registry.protocol.SignedRequest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** The box's side of the registry's HTTP API (registry/README.md): always the box calling out, so NAT needs no opening. */
public final class RegistryClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final HttpClient http;
    private volatile JsonNode info;
    private final Object signing = new Object();
    private long lastSigned;

    public RegistryClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    public URI base() {
        return base;
    }

    /** A refusal or failure, with the registry's own words (meant for the owner). */
    public static final class RegistryException extends IOException {
        private final int status;

        RegistryException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    public String zone() throws IOException, InterruptedException {
        return info().path("zone").asText();
    }

    /** The zone's authoritative servers (host:port), where the box's records can be checked. */
    public List<String> nameservers() throws IOException, InterruptedException {
        List<String> servers = new ArrayList<>();
        info().path("nameservers").forEach(n -> servers.add(n.asText()));
        return servers;
    }

    private JsonNode info() throws IOException, InterruptedException {
        if (info == null) {
            info = call("GET", "/v1/info", null, null, Map.of());
        }
        return info;
    }

    /** Claims {@code name} for this box; returns the full name. */
    public String claim(BoxIdentity box, String name) throws IOException, InterruptedException {
        byte[] body = JSON.writeValueAsBytes(Map.of("publicKey", box.publicKey()));
        return call("POST", "/v1/names/" + name, body, box, Map.of()).path("fqdn").asText();
    }

    /** Publishes the box's records under its name (each set replacing the last; sets not named again removed). */
    public void putRecords(BoxIdentity box, List<Map<String, String>> records) throws IOException, InterruptedException {
        byte[] body = JSON.writeValueAsBytes(Map.of("records", records));
        call("PUT", "/v1/boxes/" + box.id() + "/records", body, box, Map.of());
    }

    /**
     * Publishes the address this request comes from (the box's as the internet sees it, NAT or not)
     * at each of {@code hosts} under the box's name; returns the addresses published.
     */
    public List<String> putAddressFromRequest(BoxIdentity box, List<String> hosts) throws IOException, InterruptedException {
        byte[] body = JSON.writeValueAsBytes(Map.of("fromRequest", true, "hosts", hosts));
        List<String> published = new ArrayList<>();
        call("PUT", "/v1/boxes/" + box.id() + "/addresses", body, box, Map.of()).path("addresses")
                .forEach(a -> published.add(a.asText()));
        return published;
    }

    public void open(PairingKeys keys) throws IOException, InterruptedException {
        byte[] hash;
        try {
            hash = MessageDigest.getInstance("SHA-256").digest(keys.closeToken());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        call("PUT", "/v1/pairing/" + keys.channel(),
                JSON.writeValueAsBytes(Map.of("closeHash", Base64.getEncoder().encodeToString(hash))), null, Map.of());
    }

    public void close(PairingKeys keys) throws IOException, InterruptedException {
        call("DELETE", "/v1/pairing/" + keys.channel(), null, null,
                Map.of("Hearth-Close-Token", Base64.getEncoder().encodeToString(keys.closeToken())));
    }

    /** What a poll found: the messages after the asked place, and the place after them. */
    public record Polled(List<String> messages, int next) {
    }

    public Polled poll(String channel, String direction, int after, int waitSeconds) throws IOException, InterruptedException {
        JsonNode answer = call("GET", "/v1/pairing/" + channel + "/" + direction + "?after=" + after + "&wait=" + waitSeconds,
                null, null, Map.of());
        List<String> messages = new ArrayList<>();
        answer.path("messages").forEach(m -> messages.add(m.asText()));
        return new Polled(messages, answer.path("next").asInt());
    }

    public void post(String channel, String direction, String message) throws IOException, InterruptedException {
        call("POST", "/v1/pairing/" + channel + "/" + direction, message.getBytes(StandardCharsets.US_ASCII), null, Map.of());
    }

    private JsonNode call(String method, String pathAndQuery, byte[] body, BoxIdentity signer, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::header);
        HttpResponse<byte[]> response;
        if (signer != null) {
            String zone = zone();
            // The registry takes a box's signed request only if signed after the last one it took: the
            // agents' requests are signed and sent one at a time, each with a later time than the last.
            synchronized (signing) {
                long now = Math.max(System.currentTimeMillis(), lastSigned + 1);
                lastSigned = now;
                String path = pathAndQuery.contains("?") ? pathAndQuery.substring(0, pathAndQuery.indexOf('?')) : pathAndQuery;
                request.header(SignedRequest.SIGNED, Long.toString(now))
                        .header(SignedRequest.SIGNATURE, signer.sign(zone, method, path, now, body == null ? new byte[0] : body));
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            }
        } else {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        JsonNode answer;
        try {
            answer = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new RegistryException(response.statusCode(), "the registry at " + base + " answered " + response.statusCode()
                    + " without JSON to " + method + " " + pathAndQuery);
        }
        if (response.statusCode() / 100 != 2) {
            throw new RegistryException(response.statusCode(), answer.path("error").asText("the registry answered "
                    + response.statusCode()));
        }
        return answer;
    }
}
