package org.hearth.tests;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The internet as engine tests see it: the namespaces of {@code tests/overlay/world} around this
 * host (addresses in 198.18.BASE.0/24 on the "internet" side; nothing leaves this machine), with
 * servers started inside it: Debian's Knot DNS as the authoritative server and resolver the
 * appliance is configured with, echo listeners, aiosmtpd and Postfix standing in for remote mail
 * servers (a smarthost; a provider-like receiver with DKIM and DMARC milters), and the home routers
 * that put appliances behind addresses of their own. Every process it starts is ended by its own
 * handle or, for Postfix's master, by the PID it wrote; {@link #close} takes the namespaces down.
 */
final class SimulatedInternet implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String tag;
    private final int base;
    private final Path dir;
    private final List<Process> started = new ArrayList<>();
    /** PID files of daemons whose started process is not the daemon itself (Postfix's master). */
    private final List<Path> daemons = new ArrayList<>();
    /** Folders made outside {@link #dir}, removed by {@link #close}. */
    private final List<Path> temporary = new ArrayList<>();

    private SimulatedInternet(String tag, int base, Path dir) {
        this.tag = tag;
        this.base = base;
        this.dir = dir;
    }

    /** Builds the namespaces; {@code base} is the third octet of the first of the three /24s used. */
    static SimulatedInternet up(String tag, int base, Path dir) throws IOException {
        Files.createDirectories(dir);
        run(world("up", tag, String.valueOf(base)));
        return new SimulatedInternet(tag, base, dir);
    }

    /** The namespace that is "the internet". */
    String namespace() {
        return "hw-" + tag + "-inet";
    }

    /** This host's address as the internet sees it. */
    String applianceAddress() {
        return address(1);
    }

    /** An address on the internet's side; {@link #addAddress} makes the ones beyond .2 exist. */
    String address(int host) {
        return "198.18." + base + "." + host;
    }

    /** Gives the internet namespace one more address (another "host" out there). */
    void addAddress(int host) {
        run(List.of("ip", "-n", namespace(), "addr", "add", address(host) + "/24", "dev", "pub0"));
    }

    /** The provider of the host at {@code address} blocks its outbound port 25, as many home providers do: refused at once. */
    void blockPort25From(String address) {
        run(List.of("ip", "netns", "exec", namespace(), "iptables", "-I", "INPUT", "-s", address, "-p", "tcp", "--dport", "25",
                "-j", "REJECT", "--reject-with", "tcp-reset"));
    }

    /**
     * A home router's two translations for the box behind it at {@code publicAddress} (which this
     * makes exist): connections to its port 25 go on to this host's {@code smtpPort}, and what this
     * host sends into the internet leaves from it. Two appliances on one host can then reach each
     * other as the world would, each by its own MX address; all of this host's traffic shows the last
     * address given here (one router for the whole home).
     */
    void homeRouter(String publicAddress, int smtpPort) {
        addAddress(Integer.parseInt(publicAddress.substring(publicAddress.lastIndexOf('.') + 1)));
        for (String chain : List.of("PREROUTING", "OUTPUT")) {
            iptablesNat("-A", chain, "-d", publicAddress, "-p", "tcp", "--dport", "25", "-j", "DNAT",
                    "--to-destination", applianceAddress() + ":" + smtpPort);
        }
        // Forwarded back to this host (a box reaching another): without a new source this host would
        // drop a packet from its own address; received here (the internet's servers): the router's address.
        for (String chain : List.of("POSTROUTING", "INPUT")) {
            iptablesNat("-I", chain, "-s", applianceAddress(), "-j", "SNAT", "--to-source", publicAddress);
        }
    }

    /** The home router at {@code publicAddress} (made by {@link #homeRouter}) also forwards its {@code port} to this host's {@code hostPort}. */
    void routerForwards(String publicAddress, int port, int hostPort) {
        for (String chain : List.of("PREROUTING", "OUTPUT")) {
            iptablesNat("-A", chain, "-d", publicAddress, "-p", "tcp", "--dport", String.valueOf(port), "-j", "DNAT",
                    "--to-destination", applianceAddress() + ":" + hostPort);
        }
    }

    /**
     * Connections to {@code address}:{@code port} (which this makes exist) go on to the same port
     * of this host: a server here (the registry) seen by the internet at an address of its own.
     */
    void forwardToThisHost(String address, int port) {
        addAddress(Integer.parseInt(address.substring(address.lastIndexOf('.') + 1)));
        for (String chain : List.of("PREROUTING", "OUTPUT")) {
            iptablesNat("-A", chain, "-d", address, "-p", "tcp", "--dport", String.valueOf(port), "-j", "DNAT",
                    "--to-destination", applianceAddress() + ":" + port);
        }
    }

    /**
     * This host's connections to {@code destination} leave from {@code publicAddress} (a {@link
     * #homeRouter}'s): with two homes on one host, where a connection goes decides which home it
     * comes from. Before the routers' own rule for all the rest.
     */
    void leavesFromWhenTo(String publicAddress, String destination) {
        iptablesNat("-I", "POSTROUTING", "-s", applianceAddress(), "-m", "conntrack", "--ctorigdst", destination,
                "-j", "SNAT", "--to-source", publicAddress);
    }

    private void iptablesNat(String... rule) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace(), "iptables", "-w", "-t", "nat"));
        cmd.addAll(List.of(rule));
        run(cmd);
    }

    /**
     * Programs started in the internet resolve names with {@code resolver} ({@code ip netns exec}
     * puts /etc/netns/NAMESPACE/resolv.conf in place of /etc/resolv.conf): for servers with no
     * setting of their own, such as OpenDMARC's SPF checks.
     */
    private void resolvesWith(String resolver) throws IOException {
        Path netns = Files.createDirectories(Path.of("/etc/netns", namespace()));
        temporary.add(netns);
        Files.writeString(netns.resolve("resolv.conf"), "nameserver " + resolver + "\n");
    }

    /** TCP echo listeners on each ADDRESS:PORT, inside the internet; returns once all listen. */
    void echo(String... addressPorts) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3", EngineFixture.home().root().resolve("tests/overlay/tcp-echo").toString()));
        cmd.addAll(List.of(addressPorts));
        start("tcp-echo", cmd, List.of("ready"));
    }

    /**
     * A receiving mail server no one here wrote (aiosmtpd, through outbound's test peer) on
     * {@code address}:25; each message it accepts lands in {@code outDir} as message-N.eml with its
     * envelope in message-N.json. {@code rcptReplies}: recipients it refuses, with the reply.
     * Returns its process, to take it down (a destination that is away for a while).
     */
    Process smtpPeer(String address, Path outDir, Map<String, String> rcptReplies) throws IOException, InterruptedException {
        return smtpPeer(address, outDir, rcptReplies, 0);
    }

    /**
     * As {@link #smtpPeer(String, Path, Map)}, holding each message {@code dataDelaySeconds} before its
     * reply (and writing OUT_DIR/max_concurrent when one arrives); a client gone meanwhile leaves nothing kept.
     */
    Process smtpPeer(String address, Path outDir, Map<String, String> rcptReplies, int dataDelaySeconds)
            throws IOException, InterruptedException {
        return startPeer(address, outDir, Map.of("rcpt_replies", rcptReplies, "data_delay", dataDelaySeconds));
    }

    /** The message a peer started by {@link #smtpPeer} wrote to {@code outDir} that contains {@code marker}, once there. */
    static Optional<Path> arrived(Path outDir, String marker) throws IOException {
        if (!Files.isDirectory(outDir)) {
            return Optional.empty();
        }
        try (java.util.stream.Stream<Path> files = Files.list(outDir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".eml")).toList()) {
                if (Files.readString(p, StandardCharsets.ISO_8859_1).contains(marker)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** A receiving server offering STARTTLS with this certificate and key (PEM files). */
    Process smtpPeerWithTls(String address, Path outDir, Path certPem, Path keyPem) throws IOException, InterruptedException {
        return startPeer(address, outDir, Map.of("cert", certPem.toString(), "key", keyPem.toString()));
    }

    private Process startPeer(String address, Path outDir, Map<String, Object> options) throws IOException, InterruptedException {
        Files.createDirectories(outDir);
        Map<String, Object> all = new java.util.HashMap<>(options);
        all.putAll(Map.of("host", address, "port", 25, "out_dir", outDir.toString()));
        String args = JSON.writeValueAsString(all);
        return start("smtp-peer-" + address + "-" + started.size(), List.of("python3", EngineFixture.home().root()
                .resolve("smtp-outbound-container/src/test/python/smtp_peer.py").toString(), args), List.of("ready"));
    }

    /**
     * A smarthost no one here wrote: Debian's Postfix on {@code address}:587, taking mail only after
     * STARTTLS and SASL (Cyrus, sasldb: {@code login} as user@realm, with {@code password}) and
     * sending all of it on to {@code nextHop}:25. Its log (with each client's sasl_username) is
     * returned's {@code log}. {@code certPem}/{@code keyPem}: its TLS identity.
     */
    Smarthost smarthost(String address, String nextHop, String login, String password, Path certPem, Path keyPem)
            throws IOException, InterruptedException {
        Path work = postfixWork("smarthost-");
        Path conf = work.resolve("conf");
        // Debian's Postfix reads Cyrus SASL's settings from CONFIG_DIRECTORY/sasl/smtpd.conf.
        Path sasl = Files.createDirectories(conf.resolve("sasl"));
        Path db = sasl.resolve("sasldb2");
        Files.writeString(sasl.resolve("smtpd.conf"), "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                + "mech_list: PLAIN LOGIN\nsasldb_path: " + db + "\n");
        String[] userRealm = login.split("@", 2);
        Process add = new ProcessBuilder("saslpasswd2", "-p", "-c", "-f", db.toString(), "-u", userRealm[1], userRealm[0])
                .redirectErrorStream(true).start();
        add.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
        add.getOutputStream().close();
        String out = new String(add.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (add.waitFor() != 0) {
            throw new IOException("saslpasswd2 failed: " + out);
        }
        run(List.of("chown", "postfix:", db.toString()));
        Process p = startPostfix("smarthost-" + address, work, List.of(
                "myhostname = smtp.relay.test",
                "mydestination =",
                "inet_interfaces = " + address,
                "mynetworks =",
                // A relay for its logged-in customers only: no login, no relaying.
                "smtpd_relay_restrictions = permit_sasl_authenticated, reject",
                "relayhost = [" + nextHop + "]:25",
                "smtpd_sasl_auth_enable = yes",
                "smtpd_sasl_type = cyrus",
                "smtpd_sasl_path = smtpd",
                "smtpd_tls_auth_only = yes",
                "smtpd_tls_security_level = may",
                "smtpd_tls_cert_file = " + certPem,
                "smtpd_tls_key_file = " + keyPem,
                "smtp_tls_security_level = may"), address + ":587 inet n - n - - smtpd");
        return new Smarthost(p, dir.resolve("smarthost-" + address + ".log"));
    }

    /** A work folder for one Postfix (conf, data, queue), outside the state folder: Postfix's own user must walk to it. */
    private Path postfixWork(String prefix) throws IOException {
        Path work = Files.createTempDirectory("hearth-" + prefix);
        temporary.add(work);
        Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(work.resolve("conf"));
        Path data = Files.createDirectories(work.resolve("data"));
        Files.createDirectories(work.resolve("queue"));
        run(List.of("chown", "postfix:", data.toString()));
        return work;
    }

    /**
     * Debian's Postfix in the internet with {@code settings} besides the common ones, its only
     * listener {@code listener} (a master.cf line), logging to its own output; returns once it runs.
     */
    private Process startPostfix(String name, Path work, List<String> settings, String listener)
            throws IOException, InterruptedException {
        Path conf = work.resolve("conf");
        List<String> main = new ArrayList<>(List.of(
                "compatibility_level = 3.6",
                "queue_directory = " + work.resolve("queue"),
                "data_directory = " + work.resolve("data"),
                "maillog_file = /dev/stdout",
                "mail_owner = postfix",
                "setgid_group = postdrop",
                "inet_protocols = ipv4",
                "biff = no"));
        main.addAll(settings);
        Files.writeString(conf.resolve("main.cf"), String.join("\n", main) + "\n");
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                listener,
                "pickup    unix n - n 60 1 pickup", "cleanup   unix n - n - 0 cleanup", "qmgr      unix n - n 300 1 qmgr",
                "tlsmgr    unix - - n 1000? 1 tlsmgr", "rewrite   unix - - n - - trivial-rewrite",
                "bounce    unix - - n - 0 bounce", "defer     unix - - n - 0 bounce", "trace     unix - - n - 0 bounce",
                "verify    unix - - n - 1 verify", "flush     unix n - n 1000? 0 flush", "proxymap  unix - - n - - proxymap",
                "showq     unix n - n - - showq", "error     unix - - n - - error", "retry     unix - - n - - error",
                "discard   unix - - n - - discard", "smtp      unix - - n - - smtp", "relay     unix - - n - - smtp",
                "anvil     unix - - n - 1 anvil", "scache    unix - - n - 1 scache", "postlog   unix-dgram n - n - 1 postlogd", ""));
        Process p = start(name, List.of("postfix", "-c", conf.toString(), "start-fg"), List.of("daemon started"));
        // postfix stop cannot see a master started in the namespace; the master's own PID can.
        daemons.add(work.resolve("queue/pid/master.pid"));
        return p;
    }

    /**
     * A receiving mail server that checks what it gets as the big providers do, none of it written
     * here: Debian's Postfix on {@code address}:25 as {@code hostName}, for {@code domain}, with two
     * milters, Debian's dkimpy-milter (DKIM, RSA and Ed25519) and OpenDMARC (its own SPF check, and
     * DMARC from both results). Each adds its Authentication-Results field under {@code hostName}; the
     * message then goes on to {@code nextHop}:25, where a test reads it. Both milters resolve names
     * with {@code resolver} (through {@link #resolvesWith}); their ports are fixed: one such
     * receiver per internet.
     */
    void verifyingMx(String address, String hostName, String domain, String nextHop, String resolver)
            throws IOException, InterruptedException {
        resolvesWith(resolver);
        Path work = postfixWork("verifier-");
        Path conf = work.resolve("conf");
        int dkimPort = 8891;
        int dmarcPort = 8893;
        // Not OpenDKIM: Debian 12's (2.11.0~beta2, with libunbound) asks no DNS server at all in a
        // namespace (its resolver thread ends before sending a query), so every key is "not found".
        Files.writeString(conf.resolve("dkimpy-milter.conf"), String.join("\n",
                "Mode v", "Socket inet:" + dkimPort + "@127.0.0.1", "AuthservID " + hostName, "UserID dkimpy-milter",
                "Syslog no", "PidFile " + work.resolve("dkimpy-milter.pid"), ""));
        Files.writeString(conf.resolve("opendmarc.conf"), String.join("\n",
                "Socket inet:" + dmarcPort + "@127.0.0.1", "AuthservID " + hostName,
                // It reads the DKIM results from the field the other milter adds under the same name.
                "TrustedAuthservIDs " + hostName, "SPFSelfValidate true", "SPFIgnoreResults true",
                "RejectFailures false", "FailureReports false", "UserID opendmarc", "Syslog false", ""));
        startListening("dkimpy-milter-" + address, List.of("dkimpy-milter", conf.resolve("dkimpy-milter.conf").toString()),
                dkimPort);
        startListening("opendmarc-" + address, List.of("opendmarc", "-f", "-c", conf.resolve("opendmarc.conf").toString()),
                dmarcPort);
        startPostfix("verifier-" + address, work, List.of(
                "myhostname = " + hostName,
                "mydestination =",
                "inet_interfaces = " + address,
                "mynetworks =",
                "relay_domains = " + domain,
                "transport_maps = inline:{" + domain + "=smtp:[" + nextHop + "]:25}",
                "smtpd_relay_restrictions = reject_unauth_destination",
                "smtpd_milters = inet:127.0.0.1:" + dkimPort + ", inet:127.0.0.1:" + dmarcPort,
                // A check that cannot run must not let the message through unchecked.
                "milter_default_action = tempfail"), address + ":25 inet n - n - - smtpd");
    }

    /** A running smarthost and its log. */
    record Smarthost(Process process, Path log) {
    }

    /**
     * Knot DNS inside the internet on {@code address}, port 53, authoritative for each zone file
     * given as (origin, text); returns once it has loaded them.
     */
    void dns(String address, String... originsAndZones) throws IOException, InterruptedException {
        dns(address, java.util.Set.of(), originsAndZones);
    }

    /** As {@link #dns(String, String...)}, with the zones named in {@code signed} signed by Knot (DNSSEC). */
    void dns(String address, java.util.Set<String> signed, String... originsAndZones) throws IOException, InterruptedException {
        Path knot = Files.createDirectories(dir.resolve("knot-" + address));
        Files.createDirectories(knot.resolve("db"));
        List<String> conf = new ArrayList<>(List.of(
                "server:",
                "    rundir: \"" + knot + "\"",
                "    listen: " + address + "@53",
                "database:",
                "    storage: \"" + knot.resolve("db") + "\"",
                "log:",
                "  - target: stderr",
                "    any: info",
                "zone:"));
        for (int i = 0; i < originsAndZones.length; i += 2) {
            String origin = originsAndZones[i];
            Files.writeString(knot.resolve(origin + "zone"), originsAndZones[i + 1]);
            conf.addAll(List.of("  - domain: " + origin, "    storage: \"" + knot + "\"", "    file: \"" + origin + "zone\""));
            if (signed.contains(origin)) {
                conf.add("    dnssec-signing: on");
            }
        }
        Files.writeString(knot.resolve("knot.conf"), String.join("\n", conf) + "\n");
        List<String> ready = new ArrayList<>(List.of("server started"));
        for (int i = 0; i < originsAndZones.length; i += 2) {
            ready.add("[" + originsAndZones[i] + "] loaded");
        }
        start("knotd-" + address, List.of("knotd", "-c", knot.resolve("knot.conf").toString()), ready);
    }

    /**
     * The DS records of a zone Knot signs on {@code address} (from Knot's keymgr), with TTL and class:
     * the trust anchors a validator of that zone starts from, in a world without a signed root.
     */
    String trustAnchors(String address, String zone) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("keymgr", "-c", dir.resolve("knot-" + address).resolve("knot.conf").toString(), zone, "ds")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || !out.contains(" DS ")) {
            throw new IOException("keymgr " + zone + " ds: " + out);
        }
        StringBuilder anchors = new StringBuilder();
        out.lines().filter(l -> l.contains(" DS ")).forEach(l -> anchors.append(l.replaceFirst(" DS ", " 60 IN DS ")).append('\n'));
        return anchors.toString();
    }

    /** Starts {@code cmd} inside the internet and waits for every one of {@code readyTexts} in its output. */
    private Process start(String name, List<String> cmd, List<String> readyTexts) throws IOException, InterruptedException {
        return start(name, cmd, "not ready", out -> readyTexts.stream().allMatch(out::contains));
    }

    /** Starts {@code cmd} inside the internet and waits until something listens on TCP {@code port} there. */
    private void startListening(String name, List<String> cmd, int port) throws IOException, InterruptedException {
        start(name, cmd, "not listening on " + port, out -> {
            Process ss = new ProcessBuilder("ss", "-N", namespace(), "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
            String listening = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return ss.waitFor() == 0 && !listening.isBlank();
        });
    }

    /** Whether a started program is ready, judged from its output so far (or from outside). */
    private interface Readiness {
        boolean ready(String output) throws IOException, InterruptedException;
    }

    private Process start(String name, List<String> cmd, String notReady, Readiness readiness) throws IOException, InterruptedException {
        List<String> inNamespace = new ArrayList<>(List.of("ip", "netns", "exec", namespace()));
        inNamespace.addAll(cmd);
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(inNamespace).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            String out = Files.readString(log, StandardCharsets.UTF_8);
            if (readiness.ready(out)) {
                return p;
            }
            if (!p.isAlive()) {
                throw new IOException(name + " exited (" + p.exitValue() + "): " + out);
            }
            Thread.sleep(50);
        }
        throw new IOException(name + " " + notReady + " in 20 s: " + Files.readString(log, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws InterruptedException {
        for (Path pidFile : daemons) {
            try {
                long pid = Long.parseLong(Files.readString(pidFile).strip());
                ProcessHandle.of(pid).ifPresent(master -> {
                    master.destroy();
                    master.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
                });
            } catch (IOException | NumberFormatException gone) {
                // never started, or already stopped
            }
        }
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        run(world("down", tag));
        for (Path t : temporary) {
            run(List.of("rm", "-rf", t.toString()));
        }
    }

    private static List<String> world(String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", EngineFixture.home().root().resolve("tests/overlay/world").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd.get(0), e);
        }
    }
}
