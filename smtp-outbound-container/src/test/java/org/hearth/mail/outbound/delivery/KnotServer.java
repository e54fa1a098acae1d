package org.hearth.mail.outbound.delivery;

import org.xbill.DNS.Lookup;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real authoritative DNS server for tests: Debian's Knot DNS (knotd), on 127.0.0.1 and a free
 * port, serving one zone file. Stopped by its own PID.
 */
public final class KnotServer implements AutoCloseable {

    private final Process process;
    private final int port;

    private KnotServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** A zone file for "test." with its SOA, NS and the name server's address, then {@code records}. */
    public static String testZone(String... records) {
        return String.join("\n", "$ORIGIN test.", "$TTL 60", "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 60",
                "@ NS ns.test.", "ns A 127.0.0.1", String.join("\n", records)) + "\n";
    }

    /**
     * Starts knotd for {@code zone} (its origin) with the given zone file text; returns once it
     * answers. A free port can be taken by someone else before knotd binds it (a client's
     * ephemeral TCP port, say): then it tries another, a few times.
     */
    public static KnotServer start(Path dir, String zone, String zoneText) throws Exception {
        return start(dir, zone, zoneText, false);
    }

    /** As {@link #start(Path, String, String)}, with the zone signed by Knot (DNSSEC, its default policy) when {@code signed}. */
    public static KnotServer start(Path dir, String zone, String zoneText, boolean signed) throws Exception {
        Files.createDirectories(dir.resolve("db"));
        Files.writeString(dir.resolve(zone + "zone"), zoneText);
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return startOn(freeUdpAndTcpPort(), dir, zone, signed);
            } catch (PortTaken e) {
                last = e;
            }
        }
        throw last;
    }

    private static final class PortTaken extends IOException {
        PortTaken(String message) {
            super(message);
        }
    }

    /** A port free for both UDP and TCP on loopback at this moment. */
    private static int freeUdpAndTcpPort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                 DatagramSocket udp = new DatagramSocket(tcp.getLocalPort(), InetAddress.getLoopbackAddress())) {
                return udp.getLocalPort();
            } catch (IOException takenForUdp) {
                // try another
            }
        }
        throw new IOException("no loopback port free for both UDP and TCP");
    }

    private static KnotServer startOn(int port, Path dir, String zone, boolean signed) throws Exception {
        Files.writeString(dir.resolve("knot.conf"), String.join("\n",
                "server:",
                "    rundir: \"" + dir + "\"",
                "    listen: 127.0.0.1@" + port,
                "database:",
                "    storage: \"" + dir.resolve("db") + "\"",
                "log:",
                "  - target: stderr",
                "    any: warning",
                "zone:",
                "  - domain: " + zone,
                "    storage: \"" + dir + "\"",
                "    file: \"" + zone + "zone\"",
                signed ? "    dnssec-signing: on" : "",
                ""));
        Process p = new ProcessBuilder("knotd", "-c", dir.resolve("knot.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("knotd.log").toFile()).start();
        KnotServer server = new KnotServer(p, port);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                String log = Files.readString(dir.resolve("knotd.log"));
                throw log.contains("address already in use") ? new PortTaken(log) : new IOException("knotd exited: " + log);
            }
            Lookup soa = new Lookup(zone, Type.SOA);
            soa.setResolver(server.resolver(Duration.ofMillis(300)));
            soa.setCache(null);
            soa.run();
            if (soa.getResult() == Lookup.SUCCESSFUL) {
                return server;
            }
            Thread.sleep(100);
        }
        server.close();
        throw new IOException("knotd did not answer for " + zone + ": " + Files.readString(dir.resolve("knotd.log")));
    }

    /** The zone's key-signing keys (DNSKEY records, zone-file form): the trust anchor a validator starts from. */
    public String trustAnchors(String zone) throws Exception {
        SimpleResolver r = resolver(Duration.ofSeconds(2));
        r.setEDNS(0, 4096, org.xbill.DNS.Flags.DO);
        org.xbill.DNS.Message keys = r.send(org.xbill.DNS.Message.newQuery(org.xbill.DNS.Record.newRecord(
                org.xbill.DNS.Name.fromString(zone), Type.DNSKEY, org.xbill.DNS.DClass.IN)));
        StringBuilder out = new StringBuilder();
        for (org.xbill.DNS.Record k : keys.getSection(org.xbill.DNS.Section.ANSWER)) {
            if (k instanceof org.xbill.DNS.DNSKEYRecord key && (key.getFlags() & org.xbill.DNS.DNSKEYRecord.Flags.SEP_KEY) != 0) {
                out.append(k).append('\n');
            }
        }
        if (out.length() == 0) {
            throw new IOException("no key-signing key for " + zone);
        }
        return out.toString();
    }

    public int port() {
        return port;
    }

    public SimpleResolver resolver(Duration timeout) {
        SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        r.setTimeout(timeout);
        return r;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
