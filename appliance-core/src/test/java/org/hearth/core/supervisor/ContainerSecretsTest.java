package org.hearth.core.supervisor;

import org.hearth.core.image.ImageRecipe;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.network.RelayConfig;
import org.hearth.core.volume.AppVolumes;
import org.hearth.core.volume.FscryptVolumes;
import org.hearth.core.volume.KeyVault;
import org.hearth.core.volume.PlainVolumes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The folder of what a container may know beyond its manifest. The relay's password itself comes
 * from an unlocked key vault, which needs an encrypted backend: MailOutboundTest shows it end to end.
 */
class ContainerSecretsTest {

    private static final AppManifest MANIFEST = ManifestReader.read("out.yaml", """
            schema: 1
            app: mail
            version: 1.0.0
            containers:
              outbound:
                image: hearth/out
                lifecycle: service
                egress:
                  - to: relay
              store:
                image: hearth/store
                lifecycle: service
              imap:
                image: hearth/imap
                lifecycle: service
                certificate: mail.${box.domain}
            """);

    @TempDir
    Path dir;
    private String domain = "alice.boxes.test";

    private ContainerSecrets secrets(Optional<RelayConfig> relay) {
        AppVolumes plain = new AppVolumes(new PlainVolumes(dir.resolve("volumes"), ImageRecipe.UID, ImageRecipe.GID), dir,
                new KeyVault.Cost(1024, 1, 1));
        return new ContainerSecrets(dir.resolve("shm"), relay, new AppStorage(Optional.of(plain), null, "t"),
                dir.resolve("certificates"), () -> domain);
    }

    @Test
    void onlyAContainerThatSendsThroughAConfiguredRelayGetsAFolderReadableByItsUserAlone() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        ContainerSecrets s = secrets(Optional.of(new RelayConfig("smtp.provider.example", 465, Optional.of("me"),
                Optional.of(ca.toString()))));

        assertThat(s.needs(MANIFEST.containers().get("store"))).isFalse();
        assertThat(secrets(Optional.empty()).needs(MANIFEST.containers().get("outbound"))).isFalse();
        assertThat(s.needs(MANIFEST.containers().get("outbound"))).isTrue();
        assertThat(s.relayEnvironment()).isEqualTo(Map.of("HEARTH_RELAY", "smtp.provider.example:465", "HEARTH_RELAY_USER", "me"));

        s.refresh("mail", "outbound", MANIFEST.containers().get("outbound"), true);
        s.refresh("mail", "store", MANIFEST.containers().get("store"), true);

        Path folder = s.folder("mail", "outbound");
        assertThat(Files.readString(folder.resolve(ContainerSecrets.RELAY_TRUST))).isEqualTo(Files.readString(ca));
        // Plain storage has no key vault, so no password: the container's status says it is missing.
        assertThat(folder.resolve(ContainerSecrets.RELAY_PASSWORD)).doesNotExist();
        assertThat(s.folder("mail", "store")).doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("shm")))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder))).isEqualTo("r-x------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.resolve(ContainerSecrets.RELAY_TRUST))))
                .isEqualTo("r--------");
        assertThat(Files.getAttribute(folder.resolve(ContainerSecrets.RELAY_TRUST), "unix:uid")).isEqualTo(ImageRecipe.UID);

        ContainerSecrets other = secrets(Optional.of(new RelayConfig("smtp.provider.example", 465, Optional.empty(), Optional.empty())));
        other.refresh("mail-two", "outbound", MANIFEST.containers().get("outbound"), true);
        ContainerSecrets.delete(dir.resolve("shm"), "mail");
        assertThat(folder).doesNotExist();
        assertThat(other.folder("mail-two", "outbound")).as("another app's, whose name starts alike").isDirectory();
        s.clearAll();
        assertThat(dir.resolve("shm")).isEmptyDirectory();
    }

    /**
     * The pass asks every second; only an unlock, a lock, a secret set or removed, a changed trust
     * file or a new container makes it read the vault and write the folder again. The test marks
     * the handed-over password: a pass that redid the work would overwrite the mark.
     */
    @Test
    void aPassWhereNothingChangedLeavesTheFolderAloneAndAChangedSecretReachesItAtTheNext() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        // The vault needs an encrypted backend; unlocking and secrets never touch the volumes themselves.
        AppVolumes encrypted = new AppVolumes(new FscryptVolumes(dir.resolve("volumes"), ImageRecipe.UID, ImageRecipe.GID),
                dir, new KeyVault.Cost(1024, 1, 1));
        AppStorage storage = new AppStorage(Optional.of(encrypted), null, "t");
        ContainerSecrets s = new ContainerSecrets(dir.resolve("shm"), Optional.of(new RelayConfig("smtp.provider.example", 465,
                Optional.of("me"), Optional.of(ca.toString()))), storage, dir.resolve("certificates"), () -> domain);
        AppManifest.Container outbound = MANIFEST.containers().get("outbound");
        Path password = s.folder("mail", "outbound").resolve(ContainerSecrets.RELAY_PASSWORD);
        Path trust = s.folder("mail", "outbound").resolve(ContainerSecrets.RELAY_TRUST);

        storage.unlock("passphrase".toCharArray());
        storage.putSecret(RelayConfig.PASSWORD_SECRET, bytes("first"));
        s.refresh("mail", "outbound", outbound, true);
        assertThat(password).hasContent("first");

        Files.writeString(password, "mark");
        s.refresh("mail", "outbound", outbound, false);
        assertThat(password).as("nothing changed: the vault is not read again").hasContent("mark");

        storage.putSecret(RelayConfig.PASSWORD_SECRET, bytes("second"));
        s.refresh("mail", "outbound", outbound, false);
        assertThat(password).hasContent("second");

        storage.removeSecret(RelayConfig.PASSWORD_SECRET);
        s.refresh("mail", "outbound", outbound, false);
        assertThat(password).doesNotExist();

        storage.putSecret(RelayConfig.PASSWORD_SECRET, bytes("third"));
        storage.lock(List.of());
        s.clearAll();
        s.refresh("mail", "outbound", outbound, false);
        assertThat(trust).as("the folder is made again after the lock emptied it").exists();
        assertThat(password).doesNotExist();
        storage.unlock("passphrase".toCharArray());
        s.refresh("mail", "outbound", outbound, false);
        assertThat(password).hasContent("third");

        Files.writeString(ca, "-----BEGIN CERTIFICATE-----\nMIIBCgKCAQEA\n-----END CERTIFICATE-----\n");
        s.refresh("mail", "outbound", outbound, false);
        assertThat(trust).hasContent(Files.readString(ca));

        Files.writeString(password, "mark");
        s.refresh("mail", "outbound", outbound, false);
        assertThat(password).hasContent("mark");
        s.refresh("mail", "outbound", outbound, true);
        assertThat(password).as("a container about to be made gets its folder written afresh").hasContent("third");
    }

    private static byte[] bytes(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** The box's certificate for the container's host, handed over once obtained, again when renewed, gone when renamed. */
    @Test
    void aContainerWithACertificateGetsItsHostsKeyAndChainAndEachRenewalAtTheNextPass() throws Exception {
        ContainerSecrets s = secrets(Optional.empty());
        AppManifest.Container imap = MANIFEST.containers().get("imap");
        assertThat(s.needs(imap)).isTrue();
        Path folder = s.folder("mail", "imap");
        Path chain = folder.resolve(ContainerSecrets.TLS_CHAIN);
        Path key = folder.resolve(ContainerSecrets.TLS_KEY);

        s.refresh("mail", "imap", imap, true);
        assertThat(folder).as("none obtained yet: the container offers its self-signed one").isEmptyDirectory();

        Path obtained = Files.createDirectories(dir.resolve("certificates/mail.alice.boxes.test"));
        Files.writeString(obtained.resolve("privkey.pem"), "key one");
        Files.writeString(obtained.resolve("fullchain.pem"), "chain one");
        // Another host's certificate is not this container's.
        Files.createDirectories(dir.resolve("certificates/mx.alice.boxes.test"));
        Files.writeString(dir.resolve("certificates/mx.alice.boxes.test/privkey.pem"), "mx key");
        s.refresh("mail", "imap", imap, false);
        assertThat(key).hasContent("key one");
        assertThat(chain).hasContent("chain one");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("r--------");
        assertThat(Files.getAttribute(key, "unix:uid")).isEqualTo(ImageRecipe.UID);

        Files.writeString(obtained.resolve("privkey.pem"), "key two");
        Files.writeString(obtained.resolve("fullchain.pem"), "chain two, renewed");
        s.refresh("mail", "imap", imap, false);
        assertThat(key).hasContent("key two");
        assertThat(chain).hasContent("chain two, renewed");

        domain = "alice2.boxes.test";
        s.refresh("mail", "imap", imap, false);
        assertThat(chain).as("renamed: the old name's certificate is not offered").doesNotExist();
        assertThat(key).doesNotExist();
    }
}
