package org.hearth.core.overlay;

import org.hearth.core.SystemTool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WireGuardDevicesTest {

    @TempDir
    Path dir;

    private WireGuardDevices devices() {
        return new WireGuardDevices(dir.resolve("wireguard"), Ipv4Prefix.parse("10.84.0.0/29"));
    }

    @Test
    void devicesGetTheLowestFreeAddressAfterTheAppliance() {
        WireGuardDevices devices = devices();
        assertThat(devices.add("phone").device().address()).isEqualTo("10.84.0.2");
        assertThat(devices.add("laptop").device().address()).isEqualTo("10.84.0.3");
        devices.remove("phone");
        assertThat(devices.add("tablet").device().address()).isEqualTo("10.84.0.2");
        assertThat(devices.list()).extracting(WireGuardDevices.Device::name).containsExactly("laptop", "tablet");
    }

    @Test
    void aFullNetworkAndADuplicateNameAreRefused() {
        WireGuardDevices devices = devices();
        for (String name : new String[]{"a", "b", "c", "d", "e"}) {
            devices.add(name);
        }
        assertThatThrownBy(() -> devices.add("f")).hasMessage("the overlay 10.84.0.0/29 has no free address for another device");
        assertThatThrownBy(() -> devices.add("a")).hasMessageContaining("a device named a exists already");
        assertThatThrownBy(() -> devices.add("My Phone")).hasMessageContaining("must be lower-case letters");
    }

    @Test
    void theDevicesPrivateKeyIsNotKeptAndTheFilesAreRootOnly() throws Exception {
        WireGuardDevices devices = devices();
        WireGuardDevices.Issued issued = devices.add("phone");
        devices.appliancePrivateKey();

        String kept = Files.readString(dir.resolve("wireguard/devices.json"));
        assertThat(kept).contains(issued.device().publicKey()).doesNotContain(issued.privateKey());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("wireguard/devices.json"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("wireguard/private.key"))))
                .isEqualTo("rw-------");
        assertThat(devices().appliancePrivateKey()).as("the appliance key is made once").isEqualTo(devices.appliancePrivateKey());
    }

    /** wg itself derives the public key: a key pair wg disagrees with would never complete a handshake. */
    @Test
    void publicKeysAreTheOnesWgDerives() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/wg")), "NOT TESTED: wg is missing (apt install wireguard-tools)");
        for (int i = 0; i < 5; i++) {
            String privateKey = WireGuardKeys.newPrivateKey();
            String fromWg = SystemTool.run((privateKey + "\n").getBytes(StandardCharsets.US_ASCII), "wg", "pubkey").strip();
            assertThat(WireGuardKeys.publicKeyOf(privateKey)).isEqualTo(fromWg);
        }
    }
}
