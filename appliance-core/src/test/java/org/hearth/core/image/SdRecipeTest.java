package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SdRecipeTest {

    private static final Path HOME = Path.of(System.getProperty(HearthHome.HOME_PROPERTY, "..")).toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void theShippedRecipeIsABootableArm64Card() {
        SdRecipe recipe = SdRecipe.load(HOME.resolve(SdImage.RECIPE));
        assertThat(recipe.arch()).isEqualTo("arm64");
        assertThat(recipe.packages()).contains("linux-image-arm64", "raspi-firmware", "openjdk-17-jre-headless", "podman", "netavark", "aardvark-dns",
                "cryptsetup-bin", "wireguard-go", "avahi-daemon");
        assertThat(recipe.initramfsModules()).contains("ext4", "sdhci_iproc", "bcm2835", "virtio_blk");
    }

    @Test
    void aMistakeNamesTheFileTheLineAndTheField() throws Exception {
        Path file = dir.resolve("pi3.yaml");
        Files.writeString(file, "suite: bookworm\narch: arm64\ncomponents: [main]\npackages: [raspi-firmware]\n"
                + "initramfs-modules: [ext4]\nkernel: linux\n");
        assertThatThrownBy(() -> SdRecipe.load(file)).isInstanceOf(ImageBuildException.class)
                .hasMessageStartingWith(file + ":6: kernel: Unrecognized field");

        Files.writeString(file, "suite: bookworm\narch: arm64\ncomponents: [main]\npackages: [raspi-firmware, docker.io]\n"
                + "initramfs-modules: [ext4]\n");
        assertThatThrownBy(() -> SdRecipe.load(file)).hasMessage(file + ": packages: a bootable card needs linux-image-arm64"
                + " and raspi-firmware");

        Files.writeString(file, "suite: bookworm\narch: arm64\ncomponents: [main]\npackages: [linux-image-arm64, raspi-firmware, "
                + "\"docker.io; rm -rf /\"]\ninitramfs-modules: [ext4]\n");
        assertThatThrownBy(() -> SdRecipe.load(file)).hasMessageContaining(file + ": packages[2]: \"docker.io; rm -rf /\" is not a Debian name");

        Files.writeString(file, "suite: bookworm\ncomponents: [main]\npackages: [linux-image-arm64, raspi-firmware]\n"
                + "initramfs-modules: [ext4]\n");
        assertThatThrownBy(() -> SdRecipe.load(file)).hasMessage(file + ": arch: missing");
    }
}
