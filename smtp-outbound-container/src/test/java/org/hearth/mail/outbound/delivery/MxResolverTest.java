package org.hearth.mail.outbound.delivery;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.SimpleResolver;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** MX routing against a real authoritative server (Knot DNS) serving a test zone. */
class MxResolverTest {

    private static final String ZONE = KnotServer.testZone(
            // Two preferences, two hosts sharing the first; one host has IPv6 and IPv4.
            "b            MX  10 mx1.b.test.",
            "b            MX  10 mx2.b.test.",
            "b            MX  20 backup.b.test.",
            "mx1.b        AAAA ::1",
            "mx1.b        A   127.0.0.11",
            "mx2.b        A   127.0.0.12",
            "backup.b     A   127.0.0.13",
            // No MX, an address: the implicit MX.
            "nomx         A   127.0.0.14",
            // RFC 7505: accepts no mail.
            "nullmx       MX  0 .",
            // An MX host without any address, beside one that has one.
            "half         MX  10 gone.half.test.",
            "half         MX  20 mx.half.test.",
            "mx.half      A   127.0.0.15",
            // Only MX hosts without addresses.
            "broken       MX  10 gone.broken.test.",
            // A name with a TXT record only: neither MX nor address.
            "textonly     TXT \"v=spf1 -all\"");

    @TempDir
    static Path dir;
    private static KnotServer knot;
    private static MxResolver mx;

    @BeforeAll
    static void startDns() throws Exception {
        knot = KnotServer.start(dir, "test.", ZONE);
        mx = new MxResolver(knot.resolver(Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stopDns() throws Exception {
        knot.close();
    }

    @Test
    void hostsComeByPreferenceEachWithIpv6BeforeIpv4() throws Exception {
        MxResolver.Hosts route = (MxResolver.Hosts) mx.route("b.test");
        assertThat(route.hosts()).extracting(MxResolver.Host::preference).containsExactly(10, 10, 20);
        assertThat(route.hosts().get(2).name()).isEqualTo("backup.b.test");
        MxResolver.Host mx1 = route.hosts().stream().filter(h -> h.name().equals("mx1.b.test")).findFirst().orElseThrow();
        assertThat(mx1.addresses()).containsExactly(InetAddress.getByName("::1"), InetAddress.getByName("127.0.0.11"));
    }

    @Test
    void equalPreferencesAreShuffledSoLoadSpreads() {
        Set<String> firsts = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            firsts.add(((MxResolver.Hosts) mx.route("b.test")).hosts().get(0).name());
        }
        assertThat(firsts).containsExactlyInAnyOrder("mx1.b.test", "mx2.b.test");
    }

    @Test
    void withoutMxTheDomainsOwnAddressIsUsed() throws Exception {
        assertThat(mx.route("nomx.test")).isEqualTo(new MxResolver.Hosts(
                List.of(new MxResolver.Host("nomx.test", 0, List.of(InetAddress.getByName("127.0.0.14"))))));
    }

    @Test
    void aNullMxOrANameThatDoesNotExistFailsAtOnce() {
        assertThat(mx.route("nullmx.test")).isEqualTo(new MxResolver.Undeliverable("556 5.1.10 nullmx.test accepts no mail (null MX)"));
        assertThat(mx.route("missing.test")).isEqualTo(
                new MxResolver.Undeliverable("550 5.1.2 missing.test does not exist (DNS: no such domain)"));
        assertThat(mx.route("textonly.test")).isEqualTo(
                new MxResolver.Undeliverable("550 5.1.2 textonly.test has neither MX records nor an address"));
    }

    @Test
    void mxHostsWithoutAddressesAreSkippedOrMeanTryLater() {
        assertThat(((MxResolver.Hosts) mx.route("half.test")).hosts()).extracting(MxResolver.Host::name)
                .containsExactly("mx.half.test");
        assertThat(mx.route("broken.test")).isInstanceOf(MxResolver.TryLater.class)
                .extracting(r -> ((MxResolver.TryLater) r).reason()).asString().contains("gone.broken.test");
    }

    @Test
    void aResolverThatDoesNotAnswerMeansTryLaterNeverABounce() throws Exception {
        int silent;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            silent = s.getLocalPort();
            SimpleResolver nobody = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), silent));
            nobody.setTimeout(Duration.ofMillis(500));
            assertThat(new MxResolver(nobody).route("b.test")).isInstanceOf(MxResolver.TryLater.class);
        }
    }
}
