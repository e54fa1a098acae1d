package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Egress on the real engine and a simulated internet: a container that declares
 * {@code egress: internet [25, 465, 587]} and {@code resolver} reaches exactly those ports beyond
 * the appliance and the resolver appliance.yaml names (a real Knot DNS out there), and nothing
 * else; its neighbour, which declares nothing, reaches nothing. Verdicts come from the probe's
 * own connections and lookups inside the containers.
 */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
class EgressTest {

    private static final String APP = "egress-test";
    private static Engine engine;
    private static ContainerRuntime runtime;
    private static Path state;
    private static HearthCli hearth;
    private static SimulatedInternet internet;
    private static String resolver;
    private static String server;

    @BeforeAll
    static void installTheAppBesideASimulatedInternet() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe");
        runtime = new DockerRuntime(engine);
        state = EngineFixture.newStateDir("egress");
        internet = SimulatedInternet.up("e", 20, state.resolve("internet"));
        resolver = internet.address(2);
        server = internet.address(3);
        internet.addAddress(3);
        internet.dns(resolver, "egress.test.", String.join("\n", "$ORIGIN egress.test.", "$TTL 60",
                "@ SOA ns hostmaster 1 3600 600 86400 60", "@ NS ns", "ns A " + resolver, "mx A " + server, ""));
        internet.echo(server + ":25", server + ":587", server + ":80", server + ":53", resolver + ":25");
        Files.writeString(state.resolve("appliance.yaml"), "egress:\n  resolver: " + resolver + "\n");
        hearth = new HearthCli(state);
        hearth.ok("up", "--public-address", internet.applianceAddress());
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", EngineFixture.home().root().resolve("tests/apps/egress/app.yaml").toString());
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        if (internet != null) {
            internet.close();
        }
        engine.close();
    }

    @Test
    void theDeclaredPortsAreOpenBeyondTheApplianceAndNothingElse() {
        assertThat(probe("out", "connect " + server + " 25")).isEqualTo("connect " + server + ":25=ok ping");
        assertThat(probe("out", "connect " + server + " 587")).isEqualTo("connect " + server + ":587=ok ping");
        assertThat(probe("out", "connect " + resolver + " 25")).isEqualTo("connect " + resolver + ":25=ok ping");
        // Listening out there, but not declared.
        assertThat(probe("out", "connect " + server + " 80")).contains("=failed");
        // DNS goes to the configured resolver only, not to any server on port 53.
        assertThat(probe("out", "connect " + server + " 53")).contains("=failed");
    }

    @Test
    void namesBeyondTheBoxComeFromTheConfiguredResolverOnlyAndPeersStillByName() throws Exception {
        var out = engine.client().inspectContainerCmd(container("out").id()).exec();
        assertThat(out.getConfig().getEnv()).contains("HEARTH_RESOLVER=" + resolver);
        JsonNode asked = MailClients.pythonInNetworkOf(out.getState().getPidLong(), "resolve", Map.of("server", resolver, "name", "mx.egress.test"));
        assertThat(asked.path("addresses")).as("out's own client asking the resolver: %s", asked).hasSize(1);
        assertThat(asked.path("addresses").get(0).asText()).isEqualTo(server);
        // The engine's resolver, which any program asks by default, answers the app's own names and no other.
        assertThat(probe("out", "resolve sealed")).as("a peer's name beside a declared resolver")
                .matches("resolve sealed=[0-9.]+");
        assertThat(probe("out", "resolve mx.egress.test")).contains("=failed");
        assertThat(probe("sealed", "resolve mx.egress.test")).contains("=failed");
        if (engine.kind() == Engine.Kind.PODMAN) {
            // Podman's network resolver passes no name on to the host's resolvers (Debian's aardvark-dns
            // 1.4 does unless told not to, internal networks included; DockerRuntime refuses to run beside one).
            String pid = Files.readString(Path.of("/run/containers/networks/aardvark-dns/aardvark.pid")).strip();
            assertThat(Files.readString(Path.of("/proc", pid, "environ")).split("\0"))
                    .as("aardvark-dns's environment").contains("AARDVARK_NO_PROXY=1");
        }
    }

    @Test
    void aContainerWithoutEgressReachesNothingOutThere() {
        assertThat(probe("sealed", "connect " + server + " 25")).contains("=failed");
        assertThat(probe("sealed", "connect " + resolver + " 25")).contains("=failed");
    }

    @Test
    void egressDoesNotReachTheApplianceItself() throws IOException {
        String egressNetwork = new EngineNames(EngineFixture.instanceOf(state)).egressNetwork(APP, "out");
        String address = container("out").addresses().get(egressNetwork);
        assertThat(address).as("out's address on its egress network").isNotNull();
        String gateway = address.substring(0, address.lastIndexOf('.')) + ".1";
        for (String host : List.of(gateway, internet.applianceAddress())) {
            try (ServerSocket service = new ServerSocket()) {
                service.bind(new InetSocketAddress(host, 25));
                assertThat(probe("out", "connect " + host + " 25")).as("a host service on " + host).contains("=failed");
            }
        }
        // Nor a DNS server of the host's (on Podman, only the network's own resolver, on its gateway, is open).
        try (ServerSocket dns = new ServerSocket()) {
            dns.bind(new InetSocketAddress(internet.applianceAddress(), 53));
            assertThat(probe("out", "connect " + internet.applianceAddress() + " 53")).as("a DNS server on the host").contains("=failed");
        }
    }

    @Test
    void theEgressNetworkIsTheInstancesOnlyRoutedNetwork() {
        List<ContainerRuntime.NetworkInfo> networks = runtime.networks(Map.of(HearthLabels.INSTANCE,
                EngineFixture.instanceOf(state)));
        assertThat(networks).filteredOn(n -> !n.internal()).extracting(ContainerRuntime.NetworkInfo::name)
                .containsExactly(new EngineNames(EngineFixture.instanceOf(state)).egressNetwork(APP, "out"));
    }

    private static ContainerRuntime.ContainerInfo container(String role) {
        List<ContainerRuntime.ContainerInfo> found = runtime.containers(EngineFixture.roleLabels(state, APP, role));
        assertThat(found).as("running " + role).hasSize(1);
        return found.get(0);
    }

    private static String probe(String role, String args) {
        return EngineFixture.probe(runtime, container(role).id(), args);
    }
}
