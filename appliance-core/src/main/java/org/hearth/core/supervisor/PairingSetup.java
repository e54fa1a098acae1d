package org.hearth.core.supervisor;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.overlay.QrCode;
import org.hearth.core.ownerapp.OwnerAppServer;
import org.hearth.core.pairing.BoxSetup;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.KeyVault;
import org.hearth.registry.protocol.PrivateNetworks;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The box set up from the owner's pairing choices, by the same means the owner's commands use:
 * storage encrypted under the owner's password (if no passphrase was set yet: the owner's one
 * password, as a phone's passcode), the shipped mail app installed and healthy, the box's name as its
 * mail domain with the owner's mailbox, and the phone added to the overlay.
 */
public final class PairingSetup implements BoxSetup {

    static final String MAIL = "mail";
    static final String PHONE = "phone";
    private static final Duration HEALTHY_WITHIN = Duration.ofMinutes(5);

    private final HearthHome home;
    private final Supervisor supervisor;
    private final AppAdmin mail;
    private final OverlayDevices devices;

    private PairingSetup(HearthHome home, Supervisor supervisor, AppAdmin mail, OverlayDevices devices) {
        this.home = home;
        this.supervisor = supervisor;
        this.mail = mail;
        this.devices = devices;
    }

    public static PairingSetup of(HearthHome home, Supervisor supervisor, ContainerRuntime runtime, InetAddress publicAddress) {
        return new PairingSetup(home, supervisor, new AppAdmin(runtime, new InstalledApps(home.stateDir("apps")), home.instanceId()),
                new OverlayDevices(home, publicAddress));
    }

    @Override
    public Done setUp(String name, String domain, char[] password, Consumer<String> progress) throws Exception {
        if (!supervisor.passphraseSet()) {
            progress.accept("Encrypting your box's storage with your password");
            supervisor.unlock(password);
        } else {
            // A box with a password (paired before, or set on the box) takes only that one: whoever
            // holds a new code must still know it, and no pairing changes it behind the owner's back.
            try {
                if (supervisor.storageLocked()) {
                    supervisor.unlock(password);
                } else {
                    supervisor.checkPassphrase(password);
                }
            } catch (KeyVault.WrongPassphraseException e) {
                throw new Refused("password", "That is not your box's password. It has one already: enter that one.");
            } catch (AppVolumes.ThrottledException e) {
                throw new Refused("password", "Too many wrong passwords: "
                        + e.getMessage().replaceFirst("^too many wrong passphrases: ", "") + ".");
            }
        }
        if (!supervisor.installed(MAIL)) {
            progress.accept("Installing the mail app");
            Path manifest = home.root().resolve("manifests/mail/app.yaml");
            supervisor.install(manifest.toString(), Files.readString(manifest));
        }
        progress.accept("Starting mail");
        // A pass now, under the box's new name: containers named after the old one are replaced
        // before health is awaited, so the mailbox is made in the store that stays.
        supervisor.reconcileNow();
        SupervisorStatus.App app = awaitHealthy();

        String address = name + "@" + domain;
        progress.accept("Creating your mailbox " + address);
        if (mail.run(MAIL, List.of("domain", "list"), "").lines().noneMatch(domain::equals)) {
            mail.run(MAIL, List.of("domain", "add", domain), "");
        }
        boolean exists = mail.run(MAIL, List.of("user", "list"), "").lines().anyMatch(address::equals);
        mail.run(MAIL, List.of("user", exists ? "passwd" : "add", address), new String(password) + "\n");

        progress.accept("Adding this phone to your box's private network");
        if (devices.has(PHONE)) {
            // Pairing again (a retry, or a new phone for a lost one): the old phone's key stops working.
            devices.remove(PHONE);
        }
        OverlayDevices.Added phone = devices.add(PHONE, Optional.empty());
        String config = phone.configuration().orElseThrow(() -> new IllegalStateException(
                "the overlay gave this phone no WireGuard configuration"));
        // Its DKIM keys are made now if the domain has none, so they are published before they sign.
        List<String> zoneLines = new ArrayList<>(mail.run(MAIL, List.of("dns", domain), "").lines().toList());
        Map<String, String> privateHosts = privateHosts(domain, app);
        privateHosts.forEach((container, host) -> zoneLines.add(host + ". 300 IN " + addressRecord(app, container)));
        Optional<String> ownerApp = ownerApp(domain, zoneLines);
        return new Done(address, config, QrCode.of(config).png(4), mailSettings(address, app, privateHosts),
                zoneLines.stream().distinct().toList(), ownerApp);
    }

    /**
     * Where the phone opens the box's owner app: {@code https://box.NAME/} when the overlay's address
     * is a private network's (published there, with the mail's private hosts), else by that address.
     */
    private Optional<String> ownerApp(String domain, List<String> zoneLines) {
        int port = ApplianceConfig.read(home).ownerApp().port();
        Optional<InetAddress> overlay = supervisor.overlayAddress();
        if (port == 0 || overlay.isEmpty()) {
            return Optional.empty();
        }
        String address = overlay.get().getHostAddress();
        String where = address.contains(":") ? "[" + address + "]" : address;
        if (PrivateNetworks.contains(address)) {
            where = OwnerAppServer.host(domain);
            zoneLines.add(where + ". 300 IN " + (address.contains(":") ? "AAAA " : "A ") + address);
        }
        return Optional.of("https://" + where + (port == 443 ? "" : ":" + port) + "/");
    }

    /**
     * The host each private service's container serves TLS for ({@code certificate:}), by container,
     * where the service listens in a private network (the overlay's): published at that address, so
     * the owner's mail clients connect by the name the certificate is for. On the development
     * loopback overlay there is no such address, and clients keep connecting by address.
     */
    private Map<String, String> privateHosts(String domain, SupervisorStatus.App app) {
        Map<String, String> hosts = new LinkedHashMap<>();
        AppManifest manifest = supervisor.manifest(MAIL).orElse(null);
        if (manifest == null) {
            return hosts;
        }
        for (SupervisorStatus.Endpoint e : app.endpoints()) {
            AppManifest.Container container = manifest.containers().get(e.container());
            if (e.exposure().equals("private") && container != null && !container.certificate().isEmpty()
                    && PrivateNetworks.contains(e.address())) {
                hosts.put(e.container(), BoxName.expand(container.certificate().get(0), domain));
            }
        }
        return hosts;
    }

    /** The A or AAAA data of the address {@code container}'s private endpoints listen at. */
    private static String addressRecord(SupervisorStatus.App app, String container) {
        String address = app.endpoints().stream().filter(e -> e.container().equals(container)).findFirst().orElseThrow().address();
        return (address.contains(":") ? "AAAA " : "A ") + address;
    }

    private SupervisorStatus.App awaitHealthy() throws Exception {
        Instant deadline = Instant.now().plus(HEALTHY_WITHIN);
        Optional<SupervisorStatus.App> app = Optional.empty();
        while (Instant.now().isBefore(deadline)) {
            app = SupervisorStatus.readFrom(Supervisor.statusFile(home)).flatMap(s -> s.app(MAIL));
            if (app.isPresent() && app.get().state() == SupervisorStatus.AppState.HEALTHY) {
                return app.get();
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the mail app did not become healthy within " + HEALTHY_WITHIN.toMinutes()
                + " minutes" + app.flatMap(SupervisorStatus.App::problem).map(p -> " (" + p + ")").orElse(""));
    }

    /** What a mail client may ask now, as the done screen said it (none while the mail app is not running). */
    public Map<String, String> mailSettings(String address, String domain) {
        return SupervisorStatus.readFrom(Supervisor.statusFile(home)).flatMap(s -> s.app(MAIL))
                .map(app -> mailSettings(address, app, privateHosts(domain, app))).orElse(Map.of());
    }

    /** What a mail client may ask: the private endpoints, reachable over the overlay, by name where they have one. */
    private static Map<String, String> mailSettings(String address, SupervisorStatus.App app, Map<String, String> privateHosts) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("User name", address);
        for (SupervisorStatus.Endpoint e : app.endpoints()) {
            if (!e.exposure().equals("private")) {
                continue;
            }
            String where = privateHosts.getOrDefault(e.container(), e.address()) + ":" + e.listen();
            switch (e.port()) {
                case "imaps" -> settings.put("Incoming mail (IMAP)", where + ", SSL/TLS");
                case "submission" -> settings.put("Outgoing mail (SMTP)", where + ", STARTTLS");
                case "https" -> settings.put("Webmail", "https://" + where + "/");
                default -> {
                }
            }
        }
        return settings;
    }
}
