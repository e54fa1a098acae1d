package org.hearth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hearth.registry.protocol.SignedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The registry over HTTP against a real Knot: names claimed by boxes' keys, addresses published by
 * signed dynamic updates and read back from the server, and every refusal the owner's app shows.
 */
class RegistryTest {

    private static final String ZONE = TestRegistry.ZONE;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    static final TestRegistry registry = new TestRegistry();

    private static KeyPair box() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    private static String publicKey(KeyPair box) {
        return Base64.getEncoder().encodeToString(box.getPublic().getEncoded());
    }

    private static String id(KeyPair box) {
        return BoxKey.parse(publicKey(box)).id();
    }

    private static HttpResponse<String> send(String method, String path, String body, KeyPair signer, long signed)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + registry.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (signer != null) {
            b.header(SignedRequest.SIGNED, String.valueOf(signed)).header(SignedRequest.SIGNATURE,
                    SignedRequest.sign(signer.getPrivate(), ZONE, method, path, signed, body.getBytes(StandardCharsets.UTF_8)));
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> claim(String name, KeyPair box) throws Exception {
        return send("POST", "/v1/names/" + name, "{\"publicKey\":\"" + publicKey(box) + "\"}", box, System.currentTimeMillis());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static List<String> lookup(String name, int type) throws Exception {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", registry.knot.port));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name + "." + ZONE + "."), type, DClass.IN)));
        return answer.getSection(Section.ANSWER).stream().map(r -> r instanceof ARecord a ? a.getAddress().getHostAddress()
                : r instanceof AAAARecord a ? a.getAddress().getHostAddress()
                : r instanceof TXTRecord t ? String.join("", t.getStrings()) : r.rdataToString()).sorted().collect(Collectors.toList());
    }

    @Test
    void aBoxClaimsANameAndPublishesItsAddressesThroughTheAuthoritativeServer() throws Exception {
        KeyPair alice = box();
        assertThat(json(send("GET", "/v1/names/alice", null, null, 0)).path("available").asBoolean()).isTrue();
        HttpResponse<String> claimed = claim("alice", alice);
        assertThat(claimed.statusCode()).as(claimed.body()).isEqualTo(201);
        assertThat(json(claimed).path("fqdn").asText()).isEqualTo("alice." + ZONE);
        assertThat(json(send("GET", "/v1/names/alice", null, null, 0)).path("reason").asText()).isEqualTo("taken");

        String path = "/v1/boxes/" + id(alice) + "/addresses";
        HttpResponse<String> updated = send("PUT", path, "{\"addresses\":[\"198.18.7.1\",\"2001:db8:7::1\"]}", alice,
                System.currentTimeMillis());
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        assertThat(lookup("alice", Type.A)).containsExactly("198.18.7.1");
        assertThat(lookup("alice", Type.AAAA)).containsExactly("2001:db8:7:0:0:0:0:1");

        // A new address replaces the old ones, v6 gone too.
        send("PUT", path, "{\"addresses\":[\"198.18.7.2\"]}", alice, System.currentTimeMillis() + 1);
        assertThat(lookup("alice", Type.A)).containsExactly("198.18.7.2");
        assertThat(lookup("alice", Type.AAAA)).isEmpty();
    }

    @Test
    void aBoxNamesTheHostsThatCarryItsAddressesAndOnesItDropsLoseThem() throws Exception {
        KeyPair erin = box();
        assertThat(claim("erin", erin).statusCode()).isEqualTo(201);
        String path = "/v1/boxes/" + id(erin) + "/addresses";
        long at = System.currentTimeMillis();
        HttpResponse<String> both = send("PUT", path, "{\"addresses\":[\"198.18.9.1\"],\"hosts\":[\"@\",\"mx\"]}", erin, at);
        assertThat(both.statusCode()).as(both.body()).isEqualTo(200);
        assertThat(json(both).path("hosts").toString()).isEqualTo("[\"@\",\"mx\"]");
        assertThat(lookup("erin", Type.A)).containsExactly("198.18.9.1");
        assertThat(lookup("mx.erin", Type.A)).containsExactly("198.18.9.1");

        // An MX host cannot be a CNAME (RFC 2181 §10.3): the registry keeps the two apart.
        HttpResponse<String> cname = send("PUT", "/v1/boxes/" + id(erin) + "/records",
                "{\"records\":[" + record("mx", "CNAME", "erin." + ZONE + ".") + "]}", erin, at + 1);
        assertThat(cname.statusCode()).isEqualTo(400);
        assertThat(json(cname).path("error").asText()).isEqualTo("record 1 (mx CNAME): mx has the box's addresses, so it cannot be a CNAME");

        assertThat(send("PUT", path, "{\"addresses\":[\"198.18.9.2\"],\"hosts\":[\"@\"]}", erin, at + 2).statusCode()).isEqualTo(200);
        assertThat(lookup("erin", Type.A)).containsExactly("198.18.9.2");
        assertThat(lookup("mx.erin", Type.A)).as("a host no longer named").isEmpty();

        // Behind NAT a box does not know its address: the registry takes the one the request came
        // from, and refuses it as any other when it is not public (here: loopback).
        HttpResponse<String> fromHere = send("PUT", path, "{\"fromRequest\":true,\"hosts\":[\"@\",\"mx\"]}", erin, at + 3);
        assertThat(fromHere.statusCode()).isEqualTo(400);
        assertThat(json(fromHere).path("error").asText())
                .isEqualTo("\"127.0.0.1\" is not a public IPv4 or IPv6 address (the address this request came from)");
        HttpResponse<String> twice = send("PUT", path, "{\"fromRequest\":true,\"addresses\":[\"198.18.9.3\"]}", erin, at + 4);
        assertThat(json(twice).path("error").asText()).isEqualTo("give addresses or fromRequest, not both");
        HttpResponse<String> outside = send("PUT", path, "{\"addresses\":[\"198.18.9.3\"],\"hosts\":[\"a..b\"]}", erin, at + 5);
        assertThat(json(outside).path("error").asText()).isEqualTo("host \"a..b\": must be \"@\" or labels under the box's name");
        assertThat(lookup("erin", Type.A)).containsExactly("198.18.9.2");
    }

    @Test
    void everyRefusalSaysWhy() throws Exception {
        KeyPair bob = box();
        KeyPair mallory = box();
        assertThat(claim("bob", bob).statusCode()).isEqualTo(201);

        HttpResponse<String> taken = claim("bob", mallory);
        assertThat(taken.statusCode()).isEqualTo(409);
        assertThat(json(taken).path("error").asText()).isEqualTo("\"bob\" is taken");
        HttpResponse<String> second = claim("bobby", bob);
        assertThat(second.statusCode()).isEqualTo(409);
        assertThat(json(second).path("error").asText()).isEqualTo("this box has a name already: bob." + ZONE);
        HttpResponse<String> reserved = claim("postmaster", mallory);
        assertThat(reserved.statusCode()).isEqualTo(400);
        assertThat(json(reserved).path("error").asText()).isEqualTo("\"postmaster\" is reserved");

        // A claim signed by another key than the one it names.
        HttpResponse<String> forged = send("POST", "/v1/names/carol", "{\"publicKey\":\"" + publicKey(bob) + "\"}", mallory,
                System.currentTimeMillis());
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(json(forged).path("error").asText()).isEqualTo("the signature does not match this box's key");

        // An address update for Bob's box signed with Mallory's key; then Bob's own, replayed.
        String path = "/v1/boxes/" + id(bob) + "/addresses";
        String body = "{\"addresses\":[\"198.18.8.1\"]}";
        assertThat(send("PUT", path, body, mallory, System.currentTimeMillis()).statusCode()).isEqualTo(401);
        assertThat(lookup("bob", Type.A)).isEmpty();
        long at = System.currentTimeMillis();
        assertThat(send("PUT", path, body, bob, at).statusCode()).isEqualTo(200);
        HttpResponse<String> replayed = send("PUT", path, body, bob, at);
        assertThat(replayed.statusCode()).isEqualTo(409);
        assertThat(json(replayed).path("error").asText()).contains("a replay");
        HttpResponse<String> old = send("PUT", path, body, bob, at - Duration.ofMinutes(10).toMillis());
        assertThat(json(old).path("error").asText()).contains("more than 5 minutes");
        HttpResponse<String> privateAddress = send("PUT", path, "{\"addresses\":[\"192.168.1.20\"]}", bob, at + 5);
        assertThat(privateAddress.statusCode()).isEqualTo(400);
        assertThat(json(privateAddress).path("error").asText()).isEqualTo("\"192.168.1.20\" is not a public IPv4 or IPv6 address");
        HttpResponse<String> aName = send("PUT", path, "{\"addresses\":[\"evil.test\"]}", bob, at + 6);
        assertThat(json(aName).path("error").asText()).isEqualTo("\"evil.test\" is not a public IPv4 or IPv6 address");
        assertThat(lookup("bob", Type.A)).containsExactly("198.18.8.1");
    }

    private static String record(String owner, String type, String data) {
        return "{\"owner\":\"" + owner + "\",\"type\":\"" + type + "\",\"data\":" + JSON.valueToTree(data) + "}";
    }

    @Test
    void aBoxPublishesItsMailRecordsUnderItsNameAndNowhereElse() throws Exception {
        KeyPair dora = box();
        assertThat(claim("dora", dora).statusCode()).isEqualTo(201);
        String fqdn = "dora." + ZONE + ".";
        String path = "/v1/boxes/" + id(dora) + "/records";
        String mail = "{\"records\":[" + String.join(",",
                record("@", "MX", "10 " + fqdn),
                record("@", "TXT", "\"v=spf1 mx -all\""),
                record("_dmarc", "TXT", "\"v=DMARC1; p=quarantine\""),
                record("hearth1._domainkey", "TXT", "\"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\""),
                record("_submissions._tcp", "SRV", "0 1 465 " + fqdn),
                record("_imaps._tcp", "SRV", "0 1 993 " + fqdn),
                record("autoconfig", "CNAME", fqdn),
                record("_acme-challenge", "TXT", "\"challenge-token-1\"")) + "]}";
        HttpResponse<String> published = send("PUT", path, mail, dora, System.currentTimeMillis());
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        assertThat(lookup("dora", Type.MX)).containsExactly("10 " + fqdn);
        assertThat(lookup("dora", Type.TXT)).containsExactly("v=spf1 mx -all");
        assertThat(lookup("_dmarc.dora", Type.TXT)).containsExactly("v=DMARC1; p=quarantine");
        assertThat(lookup("_imaps._tcp.dora", Type.SRV)).containsExactly("0 1 993 " + fqdn);
        assertThat(lookup("autoconfig.dora", Type.CNAME)).containsExactly(fqdn);
        assertThat(lookup("_acme-challenge.dora", Type.TXT)).containsExactly("challenge-token-1");

        // The next set replaces this one: the challenge answered, its record goes.
        String without = mail.replace("," + record("_acme-challenge", "TXT", "\"challenge-token-1\""), "");
        assertThat(send("PUT", path, without, dora, System.currentTimeMillis() + 1).statusCode()).isEqualTo(200);
        assertThat(lookup("_acme-challenge.dora", Type.TXT)).isEmpty();
        assertThat(lookup("dora", Type.MX)).containsExactly("10 " + fqdn);

        // Nothing outside its own name, no delegation, nothing unparseable.
        long at = System.currentTimeMillis() + 2;
        for (String[] refused : new String[][]{
                {record("..", "TXT", "\"x\""), "owner must be \"@\" or labels under the box's name"},
                {record("bob." + ZONE + ".", "TXT", "\"x\""), "owner must be \"@\" or labels under the box's name"},
                {record("@", "NS", "ns.evil.test."), "a box may publish"},
                {record("@", "CNAME", "evil.test."), "cannot be a CNAME"},
                {record("@", "MX", "ten mail"), "record 1 (@ MX)"},
                {record("@", "TXT", "\"" + "x".repeat(2200) + "\""), "data longer than"},
                {record("www", "CNAME", fqdn) + "," + record("WWW", "TXT", "\"x\""), "cannot share its owner"}}) {
            HttpResponse<String> r = send("PUT", path, "{\"records\":[" + refused[0] + "]}", dora, at++);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(json(r).path("error").asText()).contains(refused[1]);
        }
        assertThat(lookup("dora", Type.MX)).containsExactly("10 " + fqdn);
    }

    /**
     * A host only the owner's devices reach (over the overlay) carries the overlay's address, so their
     * mail clients connect by the name its certificate is for; nothing else may go there.
     */
    @Test
    void aPrivateHostCarriesAPrivateNetworksAddressAndNothingElse() throws Exception {
        KeyPair frank = box();
        assertThat(claim("frank", frank).statusCode()).isEqualTo(201);
        String path = "/v1/boxes/" + id(frank) + "/records";
        long at = System.currentTimeMillis();
        HttpResponse<String> published = send("PUT", path, "{\"records\":[" + record("mail", "A", "10.86.0.1") + ","
                + record("mail", "AAAA", "fd86::1") + "]}", frank, at++);
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        assertThat(lookup("mail.frank", Type.A)).containsExactly("10.86.0.1");
        assertThat(lookup("mail.frank", Type.AAAA)).containsExactly("fd86:0:0:0:0:0:0:1");

        for (String[] refused : new String[][]{
                {record("mail", "A", "203.0.113.5"), "no IPv4 address in a private network"},
                {record("mail", "A", "198.18.0.9"), "no IPv4 address in a private network"},
                {record("mail", "A", "127.0.0.2"), "no IPv4 address in a private network"},
                {record("mail", "AAAA", "10.86.0.1"), "no IPv6 address in a private network"},
                {record("mail", "A", "mail.evil.test."), "no IPv4 address in a private network"},
                {record("@", "A", "10.86.0.1"), "the box's name carries the box's public addresses"}}) {
            HttpResponse<String> r = send("PUT", path, "{\"records\":[" + refused[0] + "]}", frank, at++);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(json(r).path("error").asText()).contains(refused[1]);
        }
        // Nor can its public addresses go to that host.
        HttpResponse<String> onPrivate = send("PUT", "/v1/boxes/" + id(frank) + "/addresses",
                "{\"addresses\":[\"198.18.0.9\"],\"hosts\":[\"@\",\"mail\"]}", frank, at++);
        assertThat(onPrivate.statusCode()).as(onPrivate.body()).isEqualTo(400);
        assertThat(json(onPrivate).path("error").asText()).contains("host \"mail\" carries the box's private address");
        assertThat(lookup("mail.frank", Type.A)).containsExactly("10.86.0.1");
    }

    @Test
    void whatWasClaimedOutlivesARestart() throws Exception {
        KeyPair carol = box();
        assertThat(claim("carol", carol).statusCode()).isEqualTo(201);
        registry.restart();
        assertThat(json(send("GET", "/v1/names/carol", null, null, 0)).path("reason").asText()).isEqualTo("taken");
        assertThat(claim("carol", carol).statusCode()).as("the same box claiming its own name again").isEqualTo(201);
    }
}
