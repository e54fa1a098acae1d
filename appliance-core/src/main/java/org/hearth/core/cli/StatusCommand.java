package org.hearth.core.cli;

import org.hearth.core.certificates.CertificateAgent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.certificates.BoxCertificate;
import org.hearth.core.pairing.BoxIdentity;
import org.hearth.core.pairing.DnsCheck;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.supervisor.Supervisor;
import org.hearth.core.supervisor.SupervisorProcess;
import org.hearth.core.supervisor.SupervisorStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the supervisor, the apps, their containers, health, restarts and endpoints.")
final class StatusCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--json", description = "Print the status as JSON (a paired box's DNS check and certificates under \"box\").")
    boolean json;

    /**
     * What a paired box is to the world: its name, each record set it published as the zone's name
     * servers answer it, and the certificate of each host its apps ask for (absent: not obtained yet).
     */
    record Box(String domain, List<String> nameservers, Optional<PairingState.Addresses> addresses, List<DnsCheck.Finding> dns,
               List<Certificate> certificates) {
    }

    record Certificate(String host, Optional<BoxCertificate> held, Optional<String> unreadable) {
    }

    /** The box's facts, asked of the zone's servers now; empty if it is not paired; a problem if unreadable. */
    private static Optional<Box> box(HearthHome home) throws IOException {
        PairingState state = new PairingState(home.state().resolve("pairing"));
        Optional<PairingState.Published> published = state.published();
        if (published.isEmpty()) {
            return Optional.empty();
        }
        String domain = published.get().domain();
        List<Certificate> certificates = new ArrayList<>();
        for (String host : CertificateAgent.wanted(home, domain).keySet()) {
            try {
                certificates.add(new Certificate(host, BoxCertificate.read(BoxCertificate.folder(home.state().resolve("certificates"),
                        host)), Optional.empty()));
            } catch (IOException e) {
                certificates.add(new Certificate(host, Optional.empty(), Optional.of(e.getMessage())));
            }
        }
        // The addresses are checked with the records: each host's A or AAAA set as last published.
        Optional<PairingState.Addresses> addresses = state.addresses();
        List<Map<String, String>> expected = new ArrayList<>(published.get().records());
        addresses.ifPresent(a -> a.hosts().forEach(host -> a.addresses().forEach(address -> expected.add(Map.of("owner", host,
                "type", address.contains(":") ? "AAAA" : "A", "data", address)))));
        return Optional.of(new Box(domain, published.get().nameservers(), addresses,
                DnsCheck.check(new PairingState.Published(domain, published.get().nameservers(), expected)), certificates));
    }

    /** Each record set missing or wrong at the zone's servers named, and each certificate's issuer and dates. */
    private static void printBox(HearthHome home) {
        Optional<Box> read;
        try {
            read = box(home);
        } catch (IOException e) {
            System.out.println("dns         cannot read what was published: " + e.getMessage());
            return;
        }
        if (read.isEmpty()) {
            return;
        }
        Box box = read.get();
        if (!BoxIdentity.present(home.stateDir("registry"))) {
            System.out.println("box key     MISSING: " + BoxIdentity.missing(home.stateDir("registry"), box.domain()));
        }
        List<DnsCheck.Finding> bad = box.dns().stream().filter(f -> !f.ok()).toList();
        System.out.printf("dns         %s: %s (at %s)%n", box.domain(), bad.isEmpty()
                ? box.dns().size() + " record sets as published"
                : bad.size() + " of " + box.dns().size() + " record sets MISSING or WRONG", String.join(", ", box.nameservers()));
        bad.forEach(f -> System.out.println("  " + f.name() + " " + f.type() + ": " + f.problem()));
        System.out.println("address     " + box.addresses().map(a -> a.problem().map(p -> "NOT PUBLISHED: the registry "
                + "answered: " + p + (a.addresses().isEmpty() ? "" : " (still published: " + String.join(", ", a.addresses())
                + ")")).orElse(String.join(", ", a.addresses()) + " at " + String.join(", ", a.hosts())
                + " (as the registry saw the box, " + a.at() + ")")).orElse("not published yet"));
        for (Certificate c : box.certificates()) {
            System.out.println("certificate " + c.host() + ": " + c.unreadable().map(p -> "cannot be read: " + p).orElseGet(() ->
                    c.held().map(h -> "issued by " + h.chain().get(0).getIssuerX500Principal().getName() + ", valid until "
                            + h.notAfter() + " (renewed from " + h.renewFrom() + ")").orElse("none yet (the box asks "
                            + acmeDirectory(home) + "; see the supervisor's log)")));
        }
    }

    private static String acmeDirectory(HearthHome home) {
        try {
            return ApplianceConfig.read(home).acme().directory().toString();
        } catch (RuntimeException e) {
            return "its CA";
        }
    }

    /** The supervisor's status as JSON, with the box's facts under "box" once it is paired. */
    private static String json(HearthHome home, Optional<SupervisorStatus> status) throws IOException {
        ObjectNode out = status.isPresent() ? (ObjectNode) JSON.readTree(status.get().toJson())
                : JSON.createObjectNode().put("running", false);
        Optional<Box> box = box(home);
        if (box.isPresent()) {
            ObjectNode b = out.putObject("box").put("domain", box.get().domain());
            box.get().nameservers().forEach(b.putArray("nameservers")::add);
            box.get().addresses().ifPresent(a -> {
                ObjectNode o = b.putObject("address").put("at", a.at());
                a.addresses().forEach(o.putArray("addresses")::add);
                a.hosts().forEach(o.putArray("hosts")::add);
                a.problem().ifPresent(p -> o.put("problem", p));
            });
            ArrayNode dns = b.putArray("dns");
            for (DnsCheck.Finding f : box.get().dns()) {
                ObjectNode d = dns.addObject().put("name", f.name()).put("type", f.type()).put("ok", f.ok());
                if (!f.ok()) {
                    d.put("problem", f.problem());
                }
            }
            ArrayNode certificates = b.putArray("certificates");
            for (Certificate c : box.get().certificates()) {
                ObjectNode o = certificates.addObject().put("host", c.host());
                c.unreadable().ifPresent(p -> o.put("problem", p));
                c.held().ifPresent(h -> o.put("issuer", h.chain().get(0).getIssuerX500Principal().getName())
                        .put("notAfter", h.notAfter().toString()).put("renewFrom", h.renewFrom().toString()));
            }
        }
        return JSON.writeValueAsString(out);
    }

    @Override
    public Integer call() throws IOException {
        HearthHome home = root.home();
        Optional<SupervisorStatus> read = current(home);
        if (json) {
            System.out.println(json(home, read));
            return 0;
        }
        if (read.isEmpty()) {
            System.out.println("supervisor  not running, never ran here (start it: hearth up)");
            return 0;
        }
        SupervisorStatus s = read.get();
        SupervisorStatus.Overlay o = s.overlay();
        System.out.printf("supervisor  %s, overlay %s %s%s, public %s%n",
                s.running() ? "running (pid " + s.pid() + ")" : "NOT RUNNING (last seen " + s.updatedAt() + ")",
                o.provider(), o.address().map(a -> a + o.device().map(d -> " on " + d).orElse(""))
                        .orElse("DOWN" + o.problem().map(p -> " (" + p + ")").orElse("")),
                o.developmentOnly() ? " (development only)" : "", s.publicAddress());
        if (!o.details().isEmpty()) {
            System.out.println("overlay     " + String.join(", ", o.details().entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue()).toList()));
        }
        SupervisorStatus.Storage st = s.storage();
        System.out.printf("storage     %s%s%n", switch (st.backend()) {
            case "plain" -> "PLAIN, UNENCRYPTED (--insecure-plain-storage: development only; mail is readable on disk)";
            case "none" -> "NONE: no encrypted storage on this machine, apps with volumes cannot run (see hearth doctor)";
            default -> st.backend() + " (encrypted), " + (st.locked() ? "LOCKED (run: hearth unlock)" : "unlocked");
        }, st.passphraseSet() || !st.encrypted() ? "" : "; no passphrase yet (the first hearth unlock sets it)");
        s.problems().forEach(p -> System.out.println("pass        " + p));
        printBox(home);
        if (s.apps().isEmpty()) {
            System.out.println("no apps installed (hearth app install NAME|PATH)");
        }
        for (SupervisorStatus.App app : s.apps()) {
            System.out.printf("app %s %s  %s%s%n", app.app(), app.version(), app.state(),
                    app.problem().map(p -> "  " + p).orElse(""));
            for (SupervisorStatus.Container c : app.containers()) {
                System.out.printf("  container %-14s %-8s %-13s restarts %-3d %-24s %s%s%n", c.name(),
                        c.running() ? "running" : "stopped", c.health(), c.restarts(), c.image(),
                        c.id().isEmpty() ? c.lifecycle() : c.id().substring(0, 12), c.problem().map(p -> "  " + p).orElse(""));
                c.pool().ifPresent(p -> System.out.printf("    pool    warm %d/%d, starting %d, in use %d, waiting %d, ceiling %d,"
                                + " wait %d ms; created %d, destroyed %d, failed %d, turned away %d;"
                                + " hand-off p50 %.1f ms p95 %.1f ms, start p50 %.0f ms%n",
                        p.warm(), p.warmTarget(), p.starting(), p.inUse(), p.waiting(), p.ceiling(), p.waitMs(),
                        p.created(), p.destroyed(), p.failed(), p.turnedAway(), p.handoffP50Ms(), p.handoffP95Ms(),
                        p.startP50Ms()));
                c.sandboxes().ifPresent(b -> System.out.printf("    sandboxes  created %d, destroyed %d, failed %d, busy %d of %d%n",
                        b.created(), b.destroyed(), b.failed(), b.busy(), b.sandboxes()));
                c.report().forEach((key, value) -> System.out.printf("    %-10s %s%n", key, value));
            }
            if (!app.quarantine().isEmpty()) {
                System.out.printf("  quarantine %d item(s) set aside for the owner (newest first):%n", app.quarantine().size());
                app.quarantine().stream().limit(5).forEach(q -> System.out.printf("    %s %s on %s  %s%n", q.at(), q.id(), q.volume(),
                        String.join(" ", q.details().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())));
            }
            for (SupervisorStatus.Endpoint e : app.endpoints()) {
                System.out.printf("  endpoint  %-20s %-8s %s:%d  %s  connections %d (refused %d)%s%n",
                        e.container() + "/" + e.port(), e.exposure(), e.address(), e.listen(),
                        e.open() ? "open" : "closed", e.connections(), e.refused(), e.problem().map(p -> "  " + p).orElse(""));
            }
        }
        return 0;
    }

    /** The last status written, marked with whether its supervisor still runs. */
    static Optional<SupervisorStatus> current(HearthHome home) {
        boolean alive = SupervisorProcess.running(home).isPresent();
        return SupervisorStatus.readFrom(Supervisor.statusFile(home))
                .map(s -> s.withRunning(alive && SupervisorProcess.running(home).get().pid() == s.pid()));
    }
}
