package org.hearth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.registry.protocol.PairingCode;
import org.hearth.registry.protocol.PairingKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pairing relay over HTTP: a box opens its channel, messages pass both ways (a poll waits for
 * one), a code that no box waits for is named as such, and once closed a code is used for good,
 * across a restart too.
 */
class PairingRelayTest {

    private static final String ZONE = TestRegistry.ZONE;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    static final TestRegistry registry = new TestRegistry();

    private static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + registry.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> open(PairingKeys keys) throws Exception {
        String hash = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(keys.closeToken()));
        return send("PUT", "/v1/pairing/" + keys.channel(), "{\"closeHash\":\"" + hash + "\"}");
    }

    @Test
    void messagesPassBothWaysAndAPollWaitsForOne() throws Exception {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        assertThat(open(keys).statusCode()).isEqualTo(200);
        String base = "/v1/pairing/" + keys.channel();

        CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return send("GET", base + "/to-box?after=0&wait=20", null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertThat(waiting).isNotDone();
        String hello = keys.toBox().seal(1, "{\"type\":\"hello\"}");
        assertThat(send("POST", base + "/to-box", hello).statusCode()).isEqualTo(202);
        JsonNode got = json(waiting.get());
        assertThat(got.path("messages").get(0).asText()).isEqualTo(hello);
        assertThat(got.path("next").asInt()).isEqualTo(1);
        assertThat(keys.toBox().open(1, got.path("messages").get(0).asText())).isEqualTo("{\"type\":\"hello\"}");

        String reply = keys.toPhone().seal(1, "{\"type\":\"hello\",\"zone\":\"" + ZONE + "\"}");
        assertThat(send("POST", base + "/to-phone", reply).statusCode()).isEqualTo(202);
        JsonNode phone = json(send("GET", base + "/to-phone?after=0&wait=0", null));
        assertThat(phone.path("messages").get(0).asText()).isEqualTo(reply);
        assertThat(json(send("GET", base + "/to-phone?after=1&wait=0", null)).path("messages")).isEmpty();
    }

    @Test
    void aCodeNoBoxWaitsForIsNamedAsSuch() throws Exception {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        HttpResponse<String> r = send("POST", "/v1/pairing/" + keys.channel() + "/to-box", keys.toBox().seal(1, "{}"));
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json(r).path("error").asText()).contains("No box is waiting for this pairing code");
    }

    @Test
    void whatIsNotASealedMessageIsRefused() throws Exception {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        open(keys);
        String base = "/v1/pairing/" + keys.channel();
        assertThat(send("POST", base + "/to-box", "{\"name\":\"alice\"}").statusCode()).isEqualTo(400);
        assertThat(send("POST", base + "/to-box", "v1.1." + "A".repeat(16) + "." + "B".repeat(70_000)).statusCode())
                .isEqualTo(400);
        assertThat(send("PUT", base, "{\"closeHash\":\"short\"}").statusCode()).isEqualTo(400);
        assertThat(send("PUT", base, "not json").statusCode()).isEqualTo(400);
    }

    @Test
    void aClosedCodeIsUsedForGoodAcrossARestart() throws Exception {
        PairingKeys keys = PairingKeys.of(PairingCode.random());
        open(keys);
        String base = "/v1/pairing/" + keys.channel();
        String done = keys.toPhone().seal(1, "{\"type\":\"done\"}");
        send("POST", base + "/to-phone", done);

        // Only the code's own token closes the channel.
        String otherToken = Base64.getEncoder().encodeToString(PairingKeys.of(PairingCode.random()).closeToken());
        assertThat(send("DELETE", base, null, RegistryService.CLOSE_TOKEN, otherToken).statusCode()).isEqualTo(403);
        String token = Base64.getEncoder().encodeToString(keys.closeToken());
        assertThat(send("DELETE", base, null, RegistryService.CLOSE_TOKEN, token).statusCode()).isEqualTo(200);

        // The phone still reads the box's last words; nothing more goes in, and the box cannot reopen it.
        JsonNode last = json(send("GET", base + "/to-phone?after=0&wait=5", null));
        assertThat(last.path("messages").get(0).asText()).isEqualTo(done);
        assertThat(last.path("closed").asBoolean()).isTrue();
        HttpResponse<String> again = send("POST", base + "/to-box", keys.toBox().seal(1, "{\"type\":\"hello\"}"));
        assertThat(again.statusCode()).isEqualTo(410);
        assertThat(json(again).path("error").asText()).contains("already been used");
        assertThat(open(keys).statusCode()).isEqualTo(410);

        registry.restart();
        assertThat(open(keys).statusCode()).isEqualTo(410);
        assertThat(send("POST", base + "/to-box", keys.toBox().seal(1, "{}")).statusCode()).isEqualTo(410);
    }

    @Test
    void theOwnerAppIsServedWithAStrictPolicy() throws Exception {
        HttpResponse<String> page = send("GET", "/pair", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Pair your box").doesNotContain("<script>");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue(org.hearth.registry.protocol.OwnerAppFiles.CSP);
        assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(send("GET", "/pairing.js", null).headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/javascript"));
        assertThat(send("GET", "/manifest.webmanifest", null).body()).contains("\"display\": \"standalone\"");
        assertThat(send("GET", "/../pom.xml", null).statusCode()).isIn(400, 404);
        assertThat(send("GET", "/owner-app/app.js", null).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/pair", "x").statusCode()).isEqualTo(404);
        JsonNode info = json(send("GET", "/v1/info", null));
        assertThat(info.path("zone").asText()).isEqualTo(ZONE);
        assertThat(info.path("nameservers").get(0).asText()).isEqualTo("127.0.0.1:" + registry.dnsPort());
    }
}
