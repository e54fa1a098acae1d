package org.hearth.core.supervisor;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.util.List;
import java.util.Optional;

/**
 * What the CLI may ask of the running supervisor: every change to engine objects, volumes,
 * firewall chains and overlay peers goes through one of these, so the daemon is their only
 * writer. One JSON line on the control socket, its kind in {@code "command"}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "command")
@JsonSubTypes({
        @JsonSubTypes.Type(value = ControlRequest.Unlock.class, name = "unlock"),
        @JsonSubTypes.Type(value = ControlRequest.Lock.class, name = "lock"),
        @JsonSubTypes.Type(value = ControlRequest.ChangePassphrase.class, name = "change-passphrase"),
        @JsonSubTypes.Type(value = ControlRequest.GrowVolume.class, name = "grow-volume"),
        @JsonSubTypes.Type(value = ControlRequest.InstallApp.class, name = "install-app"),
        @JsonSubTypes.Type(value = ControlRequest.InstallFromCatalog.class, name = "install-from-catalog"),
        @JsonSubTypes.Type(value = ControlRequest.UpgradeApp.class, name = "upgrade-app"),
        @JsonSubTypes.Type(value = ControlRequest.UpgradeFromManifest.class, name = "upgrade-from-manifest"),
        @JsonSubTypes.Type(value = ControlRequest.RemoveApp.class, name = "remove-app"),
        @JsonSubTypes.Type(value = ControlRequest.AddDevice.class, name = "add-device"),
        @JsonSubTypes.Type(value = ControlRequest.RemoveDevice.class, name = "remove-device"),
        @JsonSubTypes.Type(value = ControlRequest.AppAdmin.class, name = "app-admin"),
        @JsonSubTypes.Type(value = ControlRequest.SetSecret.class, name = "set-secret"),
        @JsonSubTypes.Type(value = ControlRequest.RemoveSecret.class, name = "remove-secret"),
        @JsonSubTypes.Type(value = ControlRequest.ListSecrets.class, name = "list-secrets")})
public sealed interface ControlRequest {

    /** Carries the request out on the daemon's side; returns what the owner is told. */
    ControlReply applyTo(ControlActions daemon) throws Exception;

    record Unlock(String passphrase) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.unlock(passphrase.toCharArray()));
        }
    }

    record Lock() implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.lock());
        }
    }

    record ChangePassphrase(String current, String replacement) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.changePassphrase(current.toCharArray(), replacement.toCharArray()));
        }
    }

    record GrowVolume(String app, String volume, long bytes) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.growVolume(app, volume, bytes));
        }
    }

    /** @param file where the manifest was read, for its problems' locations */
    record InstallApp(String file, String manifest) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.install(file, manifest));
        }
    }

    /** @param version empty: the newest the catalogs list */
    record InstallFromCatalog(String app, Optional<String> version) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.installFromCatalog(app, version));
        }
    }

    /** @param version empty: the newest the catalogs list; @param seconds how long the new version has to be healthy */
    record UpgradeApp(String app, Optional<String> version, int seconds) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.upgrade(app, version, java.time.Duration.ofSeconds(seconds)));
        }
    }

    /** An upgrade to a manifest file's version (development: the images are built here, no catalog). */
    record UpgradeFromManifest(String file, String manifest, int seconds) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.upgradeFromManifest(file, manifest, java.time.Duration.ofSeconds(seconds)));
        }
    }

    record RemoveApp(String app, boolean keepData) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.remove(app, keepData));
        }
    }

    /** @param zeroTierMember authorize this ZeroTier member instead of issuing a WireGuard peer */
    record AddDevice(String name, Optional<String> zeroTierMember) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return daemon.addDevice(name, zeroTierMember);
        }
    }

    record RemoveDevice(String name) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.removeDevice(name));
        }
    }

    /** @param stdin what the admin program reads (a new password), never an argument */
    record AppAdmin(String app, List<String> args, String stdin) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.appAdmin(app, args, stdin));
        }
    }

    /** @param value read from the CLI's standard input, never an argument */
    record SetSecret(String name, String value) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.setSecret(name, value));
        }
    }

    record RemoveSecret(String name) implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.removeSecret(name));
        }
    }

    record ListSecrets() implements ControlRequest {
        @Override
        public ControlReply applyTo(ControlActions daemon) throws Exception {
            return ControlReply.of(daemon.listSecrets());
        }
    }
}
