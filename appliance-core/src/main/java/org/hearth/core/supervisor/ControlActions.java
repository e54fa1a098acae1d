package org.hearth.core.supervisor;

import java.util.List;
import java.util.Optional;

/** What the daemon does for each {@link ControlRequest}; each returns the message for the owner (a device also its configuration). */
interface ControlActions {

    String unlock(char[] passphrase) throws Exception;

    String lock() throws Exception;

    String changePassphrase(char[] current, char[] replacement) throws Exception;

    String growVolume(String app, String volume, long bytes) throws Exception;

    String install(String file, String manifest) throws Exception;

    String installFromCatalog(String app, Optional<String> version) throws Exception;

    String upgrade(String app, Optional<String> version, java.time.Duration deadline) throws Exception;

    String upgradeFromManifest(String file, String manifest, java.time.Duration deadline) throws Exception;

    String remove(String app, boolean keepData) throws Exception;

    ControlReply addDevice(String name, Optional<String> zeroTierMember) throws Exception;

    String removeDevice(String name) throws Exception;

    String appAdmin(String app, List<String> args, String stdin) throws Exception;

    String setSecret(String name, String value) throws Exception;

    String removeSecret(String name) throws Exception;

    String listSecrets() throws Exception;
}
