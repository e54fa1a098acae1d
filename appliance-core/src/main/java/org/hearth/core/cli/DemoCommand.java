package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.catalog.CatalogIndex;
import org.hearth.core.catalog.CatalogKey;
import org.hearth.core.catalog.CatalogPublisher;
import org.hearth.core.HearthHome;
import org.hearth.core.SystemTool;
import org.hearth.core.image.ImageBuilder;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.overlay.OverlayConfig;
import org.hearth.core.runtime.Engine;
import org.hearth.core.supervisor.ControlRequest;
import org.hearth.core.supervisor.SupervisorProcess;
import org.hearth.core.supervisor.SupervisorStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code hearth demo}: everything on this machine, with the loopback or a WireGuard overlay: the engine, the
 * images, the supervisor, and the mail app for {@value #DOMAIN} with a mailbox {@value #USER}
 * whose generated password is kept in the state folder. Safe to re-run: what exists is reused.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Bring Hearth up on this machine: the engine, the images, the supervisor and the mail app "
                + "for " + DemoCommand.DOMAIN + ", then print the endpoints and the demo credentials.")
final class DemoCommand implements Callable<Integer> {

    static final String DOMAIN = BoxName.UNPAIRED;
    static final String USER = "alice@" + DOMAIN;
    /** The catalog the demo publishes from this checkout. */
    static final String CATALOG = "local";

    @ParentCommand
    HearthCommand root;

    @Option(names = "--smtp-port", defaultValue = "2525", description = "Public SMTP port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int smtpPort;

    @Option(names = "--imap-port", defaultValue = "1143", description = "Private IMAP (STARTTLS) port on 127.0.0.2 (default: ${DEFAULT-VALUE}).")
    int imapPort;

    @Option(names = "--imaps-port", defaultValue = "1993", description = "Private IMAPS port on 127.0.0.2 (default: ${DEFAULT-VALUE}).")
    int imapsPort;

    @Option(names = "--overlay", defaultValue = OverlayConfig.LOOPBACK, paramLabel = "PROVIDER",
            description = "loopback (development only: private ports on 127.0.0.2) or wireguard (a real WireGuard "
                    + "interface; devices: hearth overlay device add NAME). Default: ${DEFAULT-VALUE}.")
    String overlay;

    /** Where the demo's WireGuard socket lives: a namespace whose one link faces this host, so nothing else can reach it. */
    static final String WAN_NAMESPACE = "hearth-wan";
    static final String WAN_HOST_ADDRESS = "198.18.254.1";
    static final String WAN_ADDRESS = "198.18.254.2";

    @Override
    public Integer call() throws Exception {
        HearthHome home = root.home();
        if (!overlay.equals(OverlayConfig.LOOPBACK) && !overlay.equals(OverlayConfig.WIREGUARD)) {
            throw new IllegalArgumentException("--overlay " + overlay + ": the demo runs loopback or wireguard");
        }
        // Every program Hearth starts, and swaks for the "Try it" line below: a fresh machine has none of them.
        script(home, "install-packages", "run");
        if (overlay.equals(OverlayConfig.WIREGUARD)) {
            prepareWireGuard(home);
        }
        // DOCKER_HOST naming Podman's socket (scripts/podman-up's) asks for Hearth on Podman.
        String engineScript = Engine.defaultHost().equals(Engine.PODMAN_HOST) ? "podman-up" : "engine-up";
        System.out.println("demo: starting the container engine (scripts/" + engineScript + ")");
        script(home, engineScript, home.state().toString());
        List<ImageBuilder.Result> images;
        try (Engine engine = Engine.connect()) {
            engine.version();
            images = ImagesCommand.buildAll(engine, root);
        }
        stopIfOtherOverlay(home);
        long pid = UpCommand.ensureRunning(home, "127.0.0.1", Optional.of(overlay), false);
        System.out.println("demo: supervisor running (pid " + pid + ")");
        String passphrase = demoPassphrase(home);
        System.out.println("demo: " + ControlClient.message(home, new ControlRequest.Unlock(passphrase)));
        if (installMail(home) != 0) {
            throw new IllegalStateException("the mail app did not become healthy; see hearth status and "
                    + home.state().resolve("logs/supervisor.log"));
        }
        MailCommand mail = new MailCommand();
        mail.root = root;
        mail.run(List.of("domain", "add", DOMAIN), new byte[0]);
        String password = demoPassword(home, mail);

        SupervisorStatus status = StatusCommand.current(home).orElseThrow();
        System.out.println();
        System.out.println("Hearth demo is up.");
        for (ImageBuilder.Result image : images) {
            System.out.printf("  image       %-28s %4d MB%n", image.tag(), image.sizeBytes() >> 20);
        }
        System.out.printf("  supervisor  pid %d, log %s%n", pid, home.state().resolve("logs/supervisor.log"));
        SupervisorStatus.Overlay o = status.overlay();
        String privateAddress = o.address().orElse("DOWN");
        if (o.provider().equals(OverlayConfig.LOOPBACK)) {
            System.out.println("  overlay     loopback (development only): private ports on 127.0.0.2, public on 127.0.0.1");
        } else {
            System.out.println("  overlay     " + o.provider() + " " + o.network().orElse("") + " on " + o.device().orElse("-")
                    + ": private ports on " + privateAddress + " only" + o.problem().map(p -> " (" + p + ")").orElse("")
                    + ", endpoint " + o.details().getOrDefault("endpoint", "-") + ", public on 127.0.0.1");
            System.out.println("  devices     " + o.details().getOrDefault("devices", "0")
                    + " (add one: ./hearth overlay device add phone; it prints the configuration and a QR code)");
        }
        status.app("mail").ifPresent(app -> app.endpoints().stream().filter(e -> !e.exposure().equals("internal"))
                .forEach(e -> System.out.printf("  %-11s %s:%d  (%s)%n", label(e.port()), e.address(), e.listen(), e.exposure())));
        System.out.println("  storage     " + status.storage().backend() + (status.storage().encrypted() ? " (encrypted)" : "")
                + ", unlocked with the demo passphrase in " + passphraseFile(home) + " (hearth lock / hearth unlock)");
        System.out.println("  mailbox     " + USER);
        System.out.println("  password    " + password + "   (kept in " + credentialsFile(home) + ")");
        System.out.println();
        System.out.println("Try it:");
        System.out.println("  swaks --server 127.0.0.1:" + smtpPort + " --to " + USER + " --from bob@example.org --body 'Hello Alice'");
        System.out.println("  then read it in any IMAP client at " + privateAddress + ":" + imapPort + " (STARTTLS) or "
                + privateAddress + ":" + imapsPort + " (TLS)" + (o.provider().equals(OverlayConfig.LOOPBACK) ? ";"
                : ", from a device on the overlay;"));
        status.app("mail").flatMap(app -> app.endpoints().stream().filter(e -> e.port().equals("submission")).findFirst())
                .ifPresent(e -> System.out.println("  send (STARTTLS, then AUTH): swaks --server " + e.address() + ":" + e.listen()
                        + " --tls --auth-user " + USER + " --auth-password '" + password + "' --from " + USER
                        + " --to " + USER + "   (mail to other domains waits until appliance.yaml names egress.resolver)"));
        status.app("mail").flatMap(app -> app.endpoints().stream().filter(e -> e.port().equals("https")).findFirst())
                .ifPresent(e -> System.out.println("  webmail: https://" + e.address() + ":" + e.listen() + "/ in a browser, as "
                        + USER + " with the password above (unused for 30 minutes, it sleeps; the next page wakes it)"));
        int ownerApp = ApplianceConfig.read(home).ownerApp().port();
        if (ownerApp != 0) {
            System.out.println("  your box's own app: https://" + privateAddress + (ownerApp == 443 ? "" : ":" + ownerApp)
                    + "/ in a browser, with the demo passphrase (devices, apps, unlocking after a restart)");
        }
        System.out.println("  the certificates are self-signed. More: ./hearth status, ./hearth mail user add ADDRESS");
        return 0;
    }

    /**
     * Installs mail as a box does: from a signed catalog, by name. The demo publishes this checkout's
     * apps (every folder of manifests/) as catalog {@value #CATALOG}, signed with a key made once on this machine and pinned in
     * appliance.yaml. Other ports than the manifest's are a development install from the manifest itself.
     */
    private int installMail(HearthHome home) throws Exception {
        Path shipped = home.root().resolve("manifests/mail/app.yaml");
        if (smtpPort != 2525 || imapPort != 1143 || imapsPort != 1993) {
            Path manifest = home.state().resolve("demo-mail.yaml");
            Files.writeString(manifest, Files.readString(shipped)
                    .replace("listen: 2525", "listen: " + smtpPort)
                    .replace("listen: 1143", "listen: " + imapPort)
                    .replace("listen: 1993", "listen: " + imapsPort));
            System.out.println("demo: other ports than the catalog's: installing from " + manifest);
            return AppCommand.install(home, manifest.toString(), Files.readString(manifest), Optional.of(Duration.ofMinutes(5)));
        }
        Path key = home.state().resolve("demo-catalog.key");
        if (!Files.exists(key)) {
            CatalogKey.Signing.generate().write(key);
        }
        CatalogKey.Public pin = CatalogKey.Signing.read(key).publicKey();
        Path folder = home.state().resolve("demo-catalog");
        Path config = ApplianceConfig.file(home);
        if (ApplianceConfig.read(home).catalog().sources().isEmpty()) {
            String before = Files.isRegularFile(config) ? Files.readString(config) : "";
            Files.writeString(config, before + (before.isEmpty() || before.endsWith("\n") ? "" : "\n")
                    + "# Written by hearth demo: this checkout's apps, published and signed on this machine (docs/catalog.md).\n"
                    + "catalog:\n"
                    + "  sources:\n"
                    + "    - name: " + CATALOG + "\n"
                    + "      path: " + folder + "\n"
                    + "      keys: [\"" + pin + "\"]\n");
            System.out.println("demo: catalog " + CATALOG + " (key " + pin.id() + ") pinned in " + config);
        }
        try (Engine engine = Engine.connect()) {
            List<Path> apps = CatalogPublisher.appFolders(shipped.getParent().getParent());
            CatalogIndex index = new CatalogPublisher(engine.client(), Clock.systemUTC(), line -> System.out.println("demo: " + line))
                    .publish(CATALOG, apps, folder, CatalogKey.Signing.read(key), Duration.ofDays(365), true);
            System.out.println("demo: catalog " + CATALOG + " index " + index.version() + " in " + folder);
        }
        return CatalogCommand.install(home, "mail", Optional.of(Duration.ofMinutes(5)));
    }

    /**
     * The demo's WireGuard: unless the state folder's config says otherwise, the socket lives in
     * {@value #WAN_NAMESPACE}, reached from this host at {@value #WAN_ADDRESS}: this machine's other
     * interfaces never answer on the WireGuard port.
     */
    private static void prepareWireGuard(HearthHome home) throws Exception {
        if (!Files.exists(Path.of("/run/netns", WAN_NAMESPACE))) {
            SystemTool.run("ip", "netns", "add", WAN_NAMESPACE);
            SystemTool.run("ip", "link", "add", "hearth-wan0", "type", "veth", "peer", "name", "wan0", "netns", WAN_NAMESPACE);
            SystemTool.run("ip", "addr", "add", WAN_HOST_ADDRESS + "/30", "dev", "hearth-wan0");
            SystemTool.run("ip", "link", "set", "hearth-wan0", "up");
            SystemTool.run("ip", "-n", WAN_NAMESPACE, "addr", "add", WAN_ADDRESS + "/30", "dev", "wan0");
            SystemTool.run("ip", "-n", WAN_NAMESPACE, "link", "set", "wan0", "up");
            SystemTool.run("ip", "-n", WAN_NAMESPACE, "link", "set", "lo", "up");
            SystemTool.run("ip", "-n", WAN_NAMESPACE, "route", "add", "default", "via", WAN_HOST_ADDRESS);
            System.out.println("demo: network namespace " + WAN_NAMESPACE + " for the WireGuard socket, at " + WAN_ADDRESS);
        }
        // The namespace is made again after a reboot (/run is memory), the settings are kept.
        Path config = ApplianceConfig.file(home);
        if (Files.isRegularFile(config)) {
            System.out.println("demo: WireGuard settings from " + config);
            return;
        }
        Files.writeString(config, "# Written by hearth demo --overlay wireguard; see docs/overlay.md.\n"
                + "overlay:\n"
                + "  provider: wireguard\n"
                + "  wireguard:\n"
                + "    network: 10.84.0.0/24\n"
                + "    socket-namespace: " + WAN_NAMESPACE + "\n"
                + "    endpoint: " + WAN_ADDRESS + ":51820\n");
        System.out.println("demo: wrote " + config);
    }

    /** Runs one of scripts/, its output shown as it comes (apt's, dockerd's progress); a failure names the script. */
    static void script(HearthHome home, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", home.scripts().resolve(name).toString()));
        cmd.addAll(List.of(args));
        if (SystemTool.stream(Duration.ofMinutes(30), cmd, System.out::println) != 0) {
            throw new IllegalStateException("scripts/" + name + " failed (see its output above"
                    + (name.equals("engine-up") ? " and " + home.state().resolve("dockerd.log")
                    : name.equals("podman-up") ? " and " + home.state().resolve("podman.log") : "") + ")");
        }
    }

    /** A supervisor started with the other overlay is stopped (its containers stay and are adopted). */
    private void stopIfOtherOverlay(HearthHome home) throws Exception {
        Optional<ProcessHandle> running = SupervisorProcess.running(home);
        Optional<SupervisorStatus> status = StatusCommand.current(home);
        if (running.isPresent() && status.isPresent() && !status.get().overlay().provider().equals(overlay)) {
            System.out.println("demo: restarting the supervisor with the " + overlay + " overlay");
            SupervisorProcess.stop(running.get());
        }
    }

    private static String label(String port) {
        return switch (port) {
            case "smtp" -> "SMTP";
            case "imap" -> "IMAP";
            case "imaps" -> "IMAPS";
            case "submission" -> "Submission";
            case "submissions" -> "Submissions";
            case "https" -> "Webmail";
            case "well-known" -> "Well-known";
            default -> port;
        };
    }

    static Path passphraseFile(HearthHome home) {
        return home.state().resolve("demo-passphrase");
    }

    /**
     * The demo's storage passphrase: made once and kept owner-only beside the demo password. A
     * real box never writes its passphrase down; the demo does so that re-running it stays one command.
     */
    private static String demoPassphrase(HearthHome home) throws Exception {
        Path file = passphraseFile(home);
        if (Files.isRegularFile(file)) {
            return Files.readString(file).strip();
        }
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String passphrase = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Files.writeString(file, "", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(file, passphrase + "\n");
        return passphrase;
    }

    static Path credentialsFile(HearthHome home) {
        return home.state().resolve("demo-credentials");
    }

    /**
     * The demo mailbox's password: made and stored (owner-only) the first time, reused after, and
     * set again each run so a fresh mail volume gets the user back.
     */
    private static String demoPassword(HearthHome home, MailCommand mail) throws Exception {
        Path file = credentialsFile(home);
        String password;
        if (Files.isRegularFile(file)) {
            String stored = Files.readString(file).strip();
            password = stored.substring(stored.indexOf(' ') + 1);
        } else {
            byte[] random = new byte[12];
            new SecureRandom().nextBytes(random);
            password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.writeString(file, USER + " " + password + "\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        boolean exists = mail.run(List.of("user", "list"), new byte[0]).lines().anyMatch(USER::equals);
        mail.run(List.of("user", exists ? "passwd" : "add", USER), (password + "\n").getBytes(StandardCharsets.UTF_8));
        return password;
    }
}
