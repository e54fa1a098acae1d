package org.hearth.core.supervisor;

import com.github.dockerjava.api.DockerClient;
import org.hearth.core.HearthHome;
import org.hearth.core.catalog.CatalogInstaller;
import org.hearth.core.catalog.Versions;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.runtime.ContainerRuntime;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/** The daemon's side of every {@link ControlRequest}: the supervisor, its devices and the mail store's admin. */
final class SupervisorActions implements ControlActions {

    private final Supervisor supervisor;
    private final OverlayDevices devices;
    private final AppAdmin admin;
    private final CatalogInstaller catalog;

    SupervisorActions(HearthHome home, Supervisor supervisor, ContainerRuntime runtime, DockerClient docker, InetAddress publicAddress) {
        this.supervisor = supervisor;
        this.catalog = new CatalogInstaller(home, docker, Optional.ofNullable(Supervisor.class.getPackage().getImplementationVersion()));
        this.devices = new OverlayDevices(home, publicAddress);
        this.admin = new AppAdmin(runtime, new InstalledApps(home.stateDir("apps")), home.instanceId());
    }

    @Override
    public String unlock(char[] passphrase) throws Exception {
        boolean first = !supervisor.passphraseSet();
        supervisor.unlock(passphrase);
        return first ? "passphrase set and storage unlocked" : "storage unlocked";
    }

    @Override
    public String lock() throws Exception {
        supervisor.lock();
        return "storage locked";
    }

    @Override
    public String changePassphrase(char[] current, char[] replacement) throws Exception {
        supervisor.changePassphrase(current, replacement);
        return "passphrase changed";
    }

    @Override
    public String growVolume(String app, String volume, long bytes) throws Exception {
        supervisor.growVolume(app, volume, bytes);
        return "volume grown";
    }

    @Override
    public String install(String file, String manifest) {
        return supervisor.install(file, manifest);
    }

    @Override
    public String installFromCatalog(String app, Optional<String> version) throws Exception {
        return catalog.install(app, version, supervisor::install);
    }

    @Override
    public String upgrade(String app, Optional<String> version, java.time.Duration deadline) throws Exception {
        String installed = supervisor.manifest(app).map(AppManifest::version)
                .orElseThrow(() -> new IllegalArgumentException(app + " is not installed (hearth app install " + app + ")"));
        return catalog.upgrade(app, installed, version, deadline, supervisor::upgrade);
    }

    @Override
    public String upgradeFromManifest(String file, String manifest, java.time.Duration deadline) throws Exception {
        AppManifest to = ManifestReader.read(file, manifest);
        String installed = supervisor.manifest(to.app()).map(AppManifest::version)
                .orElseThrow(() -> new IllegalArgumentException(to.app() + " is not installed (hearth app install " + file + ")"));
        if (Versions.parse(to.version()).compareTo(Versions.parse(installed)) <= 0) {
            throw new IllegalArgumentException(to.app() + " " + installed + " is installed; " + file + " has " + to.version()
                    + ", not a newer version");
        }
        return supervisor.upgrade(file, manifest, deadline);
    }

    @Override
    public String remove(String app, boolean keepData) throws Exception {
        return supervisor.remove(app, keepData);
    }

    @Override
    public ControlReply addDevice(String name, Optional<String> zeroTierMember) {
        OverlayDevices.Added added = devices.add(name, zeroTierMember);
        return new ControlReply(true, Optional.of(added.message()), added.configuration(), Optional.empty());
    }

    @Override
    public String removeDevice(String name) throws Exception {
        return devices.remove(name);
    }

    @Override
    public String appAdmin(String app, List<String> args, String stdin) {
        return admin.run(app, args, stdin);
    }

    @Override
    public String setSecret(String name, String value) throws Exception {
        supervisor.setSecret(name, value);
        return "secret " + name + " stored in the key vault";
    }

    @Override
    public String removeSecret(String name) throws Exception {
        return supervisor.removeSecret(name) ? "secret " + name + " removed" : "no secret " + name + " was set";
    }

    @Override
    public String listSecrets() throws Exception {
        List<String> names = supervisor.secretNames();
        return names.isEmpty() ? "no secrets set" : String.join("\n", names);
    }
}
