package org.hearth.tests;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.EngineException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Images built by {@code hearth images build} run hardened on the real engine. */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
class HardenedContainerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static Engine engine;
    private static ContainerRuntime runtime;

    @BeforeAll
    static void buildImages() {
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe", "root-user");
        runtime = new DockerRuntime(engine);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void javaBaseProcessIsNonRootWithNoCapabilitiesAndNoNewPrivileges() {
        ContainerRuntime.Run run = runtime.run(EngineFixture.spec("hearth-test/probe", "identity"), TIMEOUT);

        assertThat(run.exitCode()).as(run.output().stderr()).isZero();
        Map<String, String> facts = facts(run.output().stdout());
        assertThat(facts.get("Uid")).isEqualTo("10001");
        assertThat(facts.get("Gid")).isEqualTo("10001");
        assertThat(facts.get("CapEff")).isEqualTo("0000000000000000");
        assertThat(facts.get("CapPrm")).isEqualTo("0000000000000000");
        assertThat(facts.get("CapBnd")).isEqualTo("0000000000000000");
        assertThat(facts.get("NoNewPrivs")).isEqualTo("1");
    }

    @Test
    void writingTheRootFilesystemFailsWhileTmpfsScratchWorks() {
        ContainerRuntime.Run run = runtime.run(
                EngineFixture.spec("hearth-test/probe", "write", "/probe-file", "/app/probe-file", "/tmp/probe-file"), TIMEOUT);

        assertThat(run.exitCode()).as(run.output().stderr()).isZero();
        Map<String, String> facts = facts(run.output().stdout());
        assertThat(facts.get("write /probe-file")).startsWith("denied").contains("Read-only file system");
        assertThat(facts.get("write /app/probe-file")).startsWith("denied").contains("Read-only file system");
        assertThat(facts.get("write /tmp/probe-file")).isEqualTo("ok");
    }

    @Test
    void debianBaseShellCannotWriteItsRootEvenWhereItsUserOwnsNothing() {
        ContainerRuntime.Run run = runtime.run(EngineFixture.spec("hearth/debian-base", "sh", "-c",
                "id -u; touch /etc/probe 2>&1; touch /tmp/probe && echo tmp-ok"), TIMEOUT);

        assertThat(run.output().stdout()).startsWith("10001\n").contains("Read-only file system").contains("tmp-ok");
    }

    @Test
    void containerHasNoNetworkUnlessOneIsDeclared() {
        ContainerRuntime.Run run = runtime.run(EngineFixture.spec("hearth/debian-base", "sh", "-c",
                "ls /sys/class/net"), TIMEOUT);

        assertThat(run.output().stdout().split("\\s+")).containsExactly("lo");
    }

    @Test
    void onlyASandboxHostMayMakeNamespacesAndOnlyInsideAUserNamespaceOfItsOwn() {
        // clone(2) with a namespace flag too, not only unshare(2): a filter must check clone's flags.
        // Its number: 56 on x86-64, 220 on arm64; a child that is made exits at once.
        String clone = "perl -e '$n = `uname -m` =~ /aarch64/ ? 220 : 56;"
                + " $r = syscall($n, 0x10000000 | 17, 0, 0, 0, 0); exit 0 if $r == 0;"
                + " print $r < 0 ? \"clone-newuser-refused\\n\" : \"clone-newuser-made\\n\"'";
        String attempts = "unshare --user --map-root-user --mount --pid --ipc --uts --net --fork true && echo sandbox-ok;"
                + " unshare --mount true 2>&1 | grep -q 'not permitted' && echo host-mount-refused; " + clone;
        ContainerRuntime.Run plain = runtime.run(EngineFixture.spec("hearth/debian-base", "sh", "-c", attempts), TIMEOUT);
        ContainerRuntime.Run host = runtime.run(EngineFixture.spec("hearth/debian-base", "sh", "-c", attempts)
                .withSandboxHost(), TIMEOUT);

        assertThat(plain.output().stdout()).as("any other container: no namespaces at all, by unshare or by clone")
                .doesNotContain("sandbox-ok").contains("host-mount-refused").contains("clone-newuser-refused");
        assertThat(host.output().stdout()).as("a sandbox host: namespaces under a user namespace, no privilege on the host")
                .contains("sandbox-ok").contains("host-mount-refused").contains("clone-newuser-made");
    }

    @Test
    void runtimeRefusesAnImageThatRunsAsRoot() {
        assertThatThrownBy(() -> runtime.create(EngineFixture.spec("hearth-test/root-user", "id")))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("refusing to run hearth-test/root-user as root");
    }

    @Test
    void runtimeRefusesARootUserOverride() {
        assertThatThrownBy(() -> runtime.create(EngineFixture.spec("hearth/debian-base", "id").withUser("0:0")))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("as root");
    }

    @Test
    void unknownImageIsReportedAsNotBuiltHere() {
        assertThatThrownBy(() -> runtime.create(EngineFixture.spec("hearth/no-such-image", "id")))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("is not built here");
    }

    private static Map<String, String> facts(String stdout) {
        Map<String, String> facts = new HashMap<>();
        for (String line : stdout.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                facts.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return facts;
    }
}
