package org.hearth.core.volume;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The unlock throttle, on real files in a temporary state folder (plain volumes: no key reaches a disk). */
class AppVolumesTest {

    private static final KeyVault.Cost CHEAP = new KeyVault.Cost(1024, 1, 1);

    @TempDir
    Path state;

    private AppVolumes volumes() {
        return new AppVolumes(new PlainVolumes(state.resolve("volumes"), 0, 0), state, CHEAP);
    }

    @Test
    void aDamagedVaultIsNeverCountedAsAFailedUnlock() throws Exception {
        AppVolumes volumes = volumes();
        volumes.unlock("right".toCharArray());
        volumes.lock();
        Path vault = state.resolve("keys.json");
        byte[] good = Files.readAllBytes(vault);
        Files.writeString(vault, Files.readString(vault).replace("\"master\" : \"", "\"master\" : \"AAAA"));

        for (int i = 0; i < 6; i++) {
            assertThat(catchThrowable(() -> volumes.unlock("right".toCharArray())))
                    .isInstanceOf(KeyVault.DamagedVaultException.class)
                    .hasMessageContaining("keys.json is damaged: the wrapped master key is 63 bytes, not 60");
        }
        assertThat(state.resolve("unlock-failures.json")).doesNotExist();

        Files.write(vault, good);
        volumes.unlock("right".toCharArray());
        assertThat(volumes.locked()).isFalse();
    }

    @Test
    void wrongPassphrasesAreThrottledAndTheirCountIsOwnerOnlyAndReplacedWhole() throws Exception {
        AppVolumes volumes = volumes();
        volumes.unlock("right".toCharArray());
        volumes.lock();
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> volumes.unlock("wrong".toCharArray()))
                    .isInstanceOf(KeyVault.WrongPassphraseException.class);
        }
        Path failures = state.resolve("unlock-failures.json");
        assertThat(Files.readString(failures)).contains("\"failures\":3");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(failures))).isEqualTo("rw-------");
        assertThat(state.resolve("unlock-failures.json.new")).as("no temporary file left behind").doesNotExist();

        assertThatThrownBy(() -> volumes.unlock("right".toCharArray()))
                .isInstanceOf(AppVolumes.ThrottledException.class)
                .hasMessageStartingWith("too many wrong passphrases: try again in ");
    }

    @Test
    void aTruncatedFailuresFileIsResetWithAWarningInsteadOfBreakingEveryUnlock() throws Exception {
        AppVolumes volumes = volumes();
        volumes.unlock("right".toCharArray());
        volumes.lock();
        Path failures = state.resolve("unlock-failures.json");
        for (String damaged : new String[] {"", "{\"failures\":7,", "[1,2]", "{\"failures\":\"many\"}"}) {
            Files.writeString(failures, damaged);

            assertThat(catchThrowable(() -> volumes.unlock("wrong".toCharArray())))
                    .as("after a failures file of <%s>", damaged)
                    .isInstanceOf(KeyVault.WrongPassphraseException.class);
            assertThat(Files.readString(failures)).as("counted afresh").contains("\"failures\":1");
        }
        Files.writeString(failures, "");
        volumes.unlock("right".toCharArray());
        assertThat(volumes.locked()).isFalse();
        assertThat(failures).as("a right passphrase clears the count").doesNotExist();
    }

    @Test
    void aSnapshotPutsTheVolumeBackExactlyAsItWasAndIsGoneAfter() throws Exception {
        AppVolumes volumes = volumes();
        Path data = volumes.open("app-data", 1 << 20);
        Files.writeString(data.resolve("kept"), "before the upgrade");
        volumes.close("app-data");
        volumes.snapshot("app-data");
        assertThat(volumes.hasSnapshot("app-data")).isTrue();

        Files.writeString(data.resolve("kept"), "changed by the new version");
        Files.writeString(data.resolve("new"), "written by the new version");
        volumes.restore("app-data");

        Path back = volumes.open("app-data", 1 << 20);
        assertThat(Files.readString(back.resolve("kept"))).isEqualTo("before the upgrade");
        assertThat(back.resolve("new")).doesNotExist();
        assertThat(volumes.hasSnapshot("app-data")).isFalse();
        assertThatThrownBy(() -> volumes.restore("app-data")).hasMessageContaining("has no snapshot to restore");

        volumes.snapshot("app-data");
        volumes.dropSnapshot("app-data");
        assertThat(volumes.hasSnapshot("app-data")).isFalse();
    }
}
