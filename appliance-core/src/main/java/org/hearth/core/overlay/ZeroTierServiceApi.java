package org.hearth.core.overlay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * zerotier-one's local JSON service API ({@code /status}, {@code /network/NWID}, {@code /controller/...}),
 * authenticated with the {@code X-ZT1-Auth} token the daemon keeps in {@code authtoken.secret} in its home.
 * Anything that keeps a request from being answered, and a refused token, becomes a {@link ZeroTierException};
 * other statuses are the caller's to read.
 */
final class ZeroTierServiceApi {

    static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, JsonNode body) {
    }

    private final String api;
    private final URI base;
    private final Path tokenFile;
    private final Duration timeout;
    private final HttpClient client;

    ZeroTierServiceApi(ZeroTierSettings settings, Duration timeout) {
        this.api = settings.api();
        this.base = URI.create("http://" + settings.api());
        this.tokenFile = settings.home().resolve("authtoken.secret");
        this.timeout = timeout;
        // HTTP/1.1: the daemon's embedded server does not upgrade; no proxy: the daemon is on this host.
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
    }

    Reply get(String path) {
        return send("GET", path, HttpRequest.BodyPublishers.noBody());
    }

    Reply post(String path, JsonNode body) {
        try {
            return send("POST", path, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    /** This node's 10-digit ZeroTier address, from {@code GET /status}. */
    String nodeId() {
        Reply reply = get("/status");
        if (reply.status() != 200) {
            throw unexpected("GET", "/status", reply);
        }
        String address = reply.body().path("address").asText("");
        if (!ZeroTierIds.isNode(address)) {
            throw new ZeroTierException("zerotier-one answered GET /status without a node address");
        }
        return address;
    }

    ZeroTierException unexpected(String method, String path, Reply reply) {
        return new ZeroTierException("zerotier-one answered " + method + " " + path + " with HTTP " + reply.status());
    }

    private Reply send(String method, String path, HttpRequest.BodyPublisher body) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path))
                .timeout(timeout)
                .header("X-ZT1-Auth", token())
                .header("Content-Type", "application/json")
                .method(method, body)
                .build();
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ZeroTierException("zerotier-one is not answering on " + api + " (" + why(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZeroTierException("interrupted while asking zerotier-one on " + api);
        }
        if (response.statusCode() == 401) {
            throw new ZeroTierException("zerotier-one refused the auth token in " + tokenFile
                    + " (HTTP 401): the daemon may have a new token; check that this file is the running daemon's");
        }
        return new Reply(response.statusCode(), parse(method, path, response.body()));
    }

    private JsonNode parse(String method, String path, String body) {
        if (body.isBlank()) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ZeroTierException("zerotier-one answered " + method + " " + path + " with something that is not JSON");
        }
    }

    /** Read on every request: the daemon writes a new token when it is reinstalled, and may start after we do. */
    private String token() {
        try {
            String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new ZeroTierException("zerotier-one's auth token file " + tokenFile + " is empty");
            }
            return token;
        } catch (NoSuchFileException e) {
            throw new ZeroTierException("cannot read zerotier-one's auth token: " + tokenFile
                    + " does not exist (is zerotier-one installed, and is overlay.zerotier.home its home?)");
        } catch (AccessDeniedException e) {
            throw new ZeroTierException("cannot read zerotier-one's auth token: " + tokenFile
                    + " is not readable by this user");
        } catch (IOException e) {
            throw new ZeroTierException("cannot read zerotier-one's auth token " + tokenFile + " (" + e + ")");
        }
    }

    private String why(IOException e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                // The JDK client leaves the message out when the port is simply closed.
                return t.getMessage() == null ? "connection refused" : t.getMessage();
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
