package org.hearth.core.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What Hearth makes of Podman's default filter for a container that is no sandbox host. */
class SeccompProfilesTest {

    /** The shape of containers-common's seccomp.json: one long allow list, rules by capability, a default refusal. */
    private static final String PODMAN_LIKE = """
            {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[
             {"names":["accept","clone","clone3","mount","read","setns","unshare","umount2","write"],"action":"SCMP_ACT_ALLOW","args":[],"comment":"","includes":{},"excludes":{}},
             {"names":["bpf","setns"],"action":"SCMP_ACT_ALLOW","args":[],"includes":{"caps":["CAP_SYS_ADMIN"]},"excludes":{}}]}
            """;

    @Test
    void podmansDefaultLosesNamespacesAndMountsAndKeepsTheRest(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("seccomp.json"), PODMAN_LIKE);

        JsonNode profile = new ObjectMapper().readTree(SeccompProfiles.podmanContainer(file));

        assertThat(profile.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        List<JsonNode> rules = new ArrayList<>();
        profile.path("syscalls").forEach(rules::add);
        assertThat(names(rules.get(0))).containsExactly("accept", "read", "write");
        assertThat(names(rules.get(1))).as("a rule for a capability no container holds stays").containsExactly("bpf", "setns");
        JsonNode clone = rules.stream().filter(r -> names(r).equals(List.of("clone"))).findFirst().orElseThrow();
        assertThat(clone.path("action").asText()).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(clone.path("args").get(0).path("value").asLong()).isEqualTo(0x7E020000L);
        assertThat(clone.path("args").get(0).path("valueTwo").asLong()).isZero();
        assertThat(clone.path("args").get(0).path("op").asText()).isEqualTo("SCMP_CMP_MASKED_EQ");
        JsonNode refused = rules.stream().filter(r -> names(r).contains("unshare")).findFirst().orElseThrow();
        assertThat(names(refused)).containsExactly("mount", "setns", "umount2", "unshare");
        assertThat(refused.path("errnoRet").asInt()).as("EPERM, as Docker's default answers").isEqualTo(1);
    }

    @Test
    void aMissingOrChangedDefaultIsRefusedNotGuessed(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> SeccompProfiles.podmanContainer(dir.resolve("absent.json")))
                .isInstanceOf(EngineException.class).hasMessageContaining("absent.json");
        Path changed = Files.writeString(dir.resolve("changed.json"),
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
        assertThatThrownBy(() -> SeccompProfiles.podmanContainer(changed))
                .isInstanceOf(EngineException.class).hasMessageContaining("refusing to guess");
    }

    private static List<String> names(JsonNode rule) {
        List<String> names = new ArrayList<>();
        rule.path("names").forEach(n -> names.add(n.asText()));
        return names;
    }
}
