package org.hearth.core.doctor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostDoctorTest {

    @Test
    void missingEngineBlocksHearthAndSaysHowToStartIt(@TempDir Path state) {
        List<HostCheck> checks = new HostDoctor("unix://" + state.resolve("no-engine.sock"), state).run();

        HostCheck engine = checks.stream().filter(c -> c.name().equals("engine")).findFirst().orElseThrow();
        assertThat(engine.ok()).isFalse();
        assertThat(engine.blocksHearth()).isTrue();
        assertThat(engine.fix()).hasValueSatisfying(f -> assertThat(f).contains("scripts/engine-up"));
    }

    @Test
    void reportsEveryCheckOnceWithAFixForEachMissingOne(@TempDir Path state) {
        List<HostCheck> checks = new HostDoctor("unix://" + state.resolve("no-engine.sock"), state).run();

        assertThat(checks).extracting(HostCheck::name).containsExactly("engine", "iptables", "device-mapper",
                "ext4-encryption", "encrypted-storage", "tun", "netns", "image-tools", "disk", "memory");
        assertThat(checks).filteredOn(c -> !c.ok()).allSatisfy(c -> assertThat(c.fix()).isPresent());
        assertThat(checks).filteredOn(HostCheck::ok).allSatisfy(c -> assertThat(c.fix()).isEmpty());
    }

    @Test
    void memoryIsReadFromTheKernel() {
        assertThat(HostDoctor.memTotal()).isGreaterThan(100L << 20);
    }
}
