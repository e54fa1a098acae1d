package org.hearth.core.volume;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyVaultTest {

    /** Cheap enough for a unit test; the appliance cost is measured in docs/benchmarks.md. */
    private static final KeyVault.Cost CHEAP = new KeyVault.Cost(1024, 1, 1);

    @TempDir
    Path dir;

    @Test
    void theRightPassphraseOpensTheSameMasterKeyAndVolumeKeysSurviveAPassphraseChange() throws Exception {
        KeyVault vault = KeyVault.at(dir.resolve("keys.json"));
        vault.create("correct horse".toCharArray(), CHEAP);
        byte[] master = vault.unlock("correct horse".toCharArray());
        byte[] volumeKey = vault.newVolumeKey(master, "mail-data", 64);

        vault.changePassphrase("correct horse".toCharArray(), "battery staple".toCharArray(), CHEAP);

        assertThatThrownBy(() -> vault.unlock("correct horse".toCharArray()))
                .isInstanceOf(KeyVault.WrongPassphraseException.class);
        byte[] again = vault.unlock("battery staple".toCharArray());
        assertThat(again).isEqualTo(master);
        assertThat(vault.volumeKey(again, "mail-data")).isEqualTo(volumeKey).hasSize(64);
    }

    @Test
    void aSecretIsKeptWrappedSurvivesAPassphraseChangeAndCannotBeSwappedForAnother() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("pass".toCharArray(), CHEAP);
        byte[] master = vault.unlock("pass".toCharArray());
        vault.putSecret(master, "relay-password", "s3cret-relay-pass".getBytes(StandardCharsets.UTF_8));
        vault.putSecret(master, "other", "another".getBytes(StandardCharsets.UTF_8));

        assertThat(Files.readString(file)).doesNotContain("s3cret-relay-pass")
                .doesNotContain(Base64.getEncoder().encodeToString("s3cret-relay-pass".getBytes(StandardCharsets.UTF_8)));
        vault.changePassphrase("pass".toCharArray(), "new pass".toCharArray(), CHEAP);
        byte[] again = vault.unlock("new pass".toCharArray());
        assertThat(vault.secret(again, "relay-password")).hasValueSatisfying(v ->
                assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("s3cret-relay-pass"));
        assertThat(vault.secretNames()).containsExactly("other", "relay-password");

        // Moved under another name, a wrapped secret does not open: what it is for is bound into it.
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(file.toFile());
        ((ObjectNode) root.get("secrets")).set("other", root.get("secrets").get("relay-password"));
        Files.writeString(file, root.toString());
        assertThatThrownBy(() -> vault.secret(again, "other")).hasMessageContaining("the secret other is corrupted");

        assertThat(vault.removeSecret("relay-password")).isTrue();
        assertThat(vault.removeSecret("relay-password")).isFalse();
        assertThat(vault.secret(again, "relay-password")).isEmpty();
    }

    @Test
    void theFileHoldsNoKeyInTheClearAndOnlyTheOwnerMayReadIt() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("pass".toCharArray(), CHEAP);
        byte[] master = vault.unlock("pass".toCharArray());
        byte[] volumeKey = vault.newVolumeKey(master, "v", 64);

        String text = Files.readString(file);
        assertThat(text).doesNotContain(Base64.getEncoder().encodeToString(master))
                .doesNotContain(Base64.getEncoder().encodeToString(volumeKey))
                .doesNotContain("pass\"");
        byte[] raw = Files.readAllBytes(file);
        assertThat(ByteSearch.indexOf(raw, master)).isEqualTo(-1);
        assertThat(ByteSearch.indexOf(raw, volumeKey)).isEqualTo(-1);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void aWrongPassphraseChangesNothing() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("right".toCharArray(), CHEAP);
        byte[] before = Files.readAllBytes(file);

        assertThatThrownBy(() -> vault.changePassphrase("wrong".toCharArray(), "new".toCharArray(), CHEAP))
                .isInstanceOf(KeyVault.WrongPassphraseException.class);
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void aCorruptedWrappedVolumeKeyIsNamedAndTheOthersStillOpen() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("p".toCharArray(), CHEAP);
        byte[] master = vault.unlock("p".toCharArray());
        vault.newVolumeKey(master, "broken", 64);
        byte[] good = vault.newVolumeKey(master, "good", 64);

        String text = Files.readString(file);
        String wrapped = text.split("\"broken\" : \"")[1].split("\"")[0];
        byte[] bytes = Base64.getDecoder().decode(wrapped);
        bytes[20] ^= 1;
        Files.writeString(file, text.replace(wrapped, Base64.getEncoder().encodeToString(bytes)));

        assertThatThrownBy(() -> vault.volumeKey(master, "broken"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("volume broken is corrupted");
        assertThat(vault.volumeKey(master, "good")).isEqualTo(good);
    }

    @Test
    void aWrappedKeyMovedToAnotherVolumesNameDoesNotOpen() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("p".toCharArray(), CHEAP);
        byte[] master = vault.unlock("p".toCharArray());
        vault.newVolumeKey(master, "a", 64);
        vault.newVolumeKey(master, "b", 64);
        String text = Files.readString(file);
        String wrappedA = text.split("\"a\" : \"")[1].split("\"")[0];
        String wrappedB = text.split("\"b\" : \"")[1].split("\"")[0];
        Files.writeString(file, text.replace(wrappedB, wrappedA));

        assertThatThrownBy(() -> vault.volumeKey(master, "b")).hasMessageContaining("volume b is corrupted");
    }

    @Test
    void aMissingOrDamagedVaultIsAClearError() throws Exception {
        Path file = dir.resolve("keys.json");
        assertThatThrownBy(() -> KeyVault.at(file).unlock("x".toCharArray()))
                .hasMessageContaining("keys.json does not exist");
        Files.writeString(file, "{\"format\":1}", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> KeyVault.at(file).unlock("x".toCharArray()))
                .hasMessageContaining("field \"kdf\" is missing");
        assertThatThrownBy(() -> KeyVault.at(file).create("x".toCharArray(), CHEAP))
                .hasMessageContaining("already exists");
    }

    @Test
    void aTruncatedMasterKeyIsADamagedFileNotAWrongPassphrase() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("right".toCharArray(), CHEAP);
        String text = Files.readString(file);
        String master = text.split("\"master\" : \"")[1].split("\"")[0];
        Files.writeString(file, text.replace(master, master.substring(0, 40)));

        assertThatThrownBy(() -> vault.unlock("right".toCharArray()))
                .isInstanceOf(KeyVault.DamagedVaultException.class)
                .hasMessage(file + " is damaged: the wrapped master key is 30 bytes, not 60;"
                        + " no passphrase was tried (restore it from a backup)");
    }

    @Test
    void aChangedSaltIsCaughtByTheChecksumRatherThanTakenForAWrongPassphrase() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("right".toCharArray(), CHEAP);
        String text = Files.readString(file);
        String salt = text.split("\"salt\" : \"")[1].split("\"")[0];
        String flipped = (salt.charAt(0) == 'A' ? "B" : "A") + salt.substring(1);
        Files.writeString(file, text.replace(salt, flipped));

        assertThatThrownBy(() -> vault.unlock("right".toCharArray()))
                .isInstanceOf(KeyVault.DamagedVaultException.class)
                .hasMessageContaining(file + " is damaged: its checksum does not match");
    }

    @Test
    void aTruncatedOrEmptyVaultFileSaysWhatIsWrongWithIt() throws Exception {
        Path file = dir.resolve("keys.json");
        KeyVault vault = KeyVault.at(file);
        vault.create("right".toCharArray(), CHEAP);
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(whole, whole.length / 2));

        assertThatThrownBy(() -> vault.unlock("right".toCharArray()))
                .isInstanceOf(KeyVault.DamagedVaultException.class)
                .hasMessageStartingWith(file + " is damaged: it is not valid JSON (Unexpected end-of-input");

        Files.write(file, new byte[0]);
        assertThatThrownBy(() -> vault.unlock("right".toCharArray()))
                .isInstanceOf(KeyVault.DamagedVaultException.class)
                .hasMessageStartingWith(file + " is damaged: it is empty");
    }
}
