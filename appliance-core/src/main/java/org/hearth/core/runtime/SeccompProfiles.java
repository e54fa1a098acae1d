package org.hearth.core.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hearth's system-call filters.
 *
 * <p>A sandbox host's: Docker's default filter refuses {@code unshare} and {@code mount} to a
 * container without CAP_SYS_ADMIN, and a sandbox host needs exactly those to put each child into
 * namespaces of its own (as an unprivileged user: they work only inside a new user namespace, never
 * on the host's). Everything else the default filter exists to stop stays refused: kernel modules and
 * keyrings, BPF, perf, ptrace and reading other processes' memory, io_uring, userfaultfd, clocks, swap,
 * reboot, entering other namespaces ({@code setns}), and the old mount API alternatives. The container
 * still has no capabilities, so what needs privilege on the host fails there regardless.
 *
 * <p>Any other container's, on Podman: Podman's default filter allows {@code unshare}, {@code mount},
 * {@code setns}, {@code ptrace} and {@code keyctl} to every container, so an unprivileged process may
 * make a user namespace and every other kind inside it. Hearth gives such containers Podman's own
 * default (a list of what is allowed, kept by Podman's packagers) less those: {@code clone} only
 * without a namespace flag, and the rest refused with EPERM, as Docker's default refuses them to a
 * container without CAP_SYS_ADMIN. On Docker they keep the engine's default.
 */
final class SeccompProfiles {

    private static final List<String> REFUSED = List.of(
            "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
            "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
            "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
            "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount_setattr", "move_mount",
            "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open",
            "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot",
            "request_key", "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs",
            "_sysctl", "umount", "uselib", "userfaultfd", "ustat", "vm86", "vm86old");

    /** Podman's default filter, as Debian's containers-common installs it. */
    static final Path PODMAN_DEFAULT = Path.of("/usr/share/containers/seccomp.json");

    /** What Podman's default allows every container and Docker's refuses one without CAP_SYS_ADMIN. */
    private static final Set<String> NOT_ON_PODMAN = Set.of("unshare", "setns", "mount", "umount", "umount2",
            "pivot_root", "chroot", "keyctl", "add_key", "request_key", "ptrace", "process_vm_readv",
            "process_vm_writev", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
            "clone", "clone3");

    /**
     * clone's flags that make a namespace (mount, cgroup, UTS, IPC, user, PID, network), in its first
     * argument on x86-64 and arm64 alike.
     */
    private static final long CLONE_NAMESPACE_FLAGS = 0x7E020000L;

    /** A sandbox host's profile as Docker takes it inline ({@code seccomp=JSON}). */
    static final String SANDBOX_HOST = sandboxHost();

    private static volatile String podmanContainer;

    private SeccompProfiles() {
    }

    /** A profile in a new file of its own, for an engine that takes the option as a path (Podman 4). */
    static Path writeToFile(String profile) {
        try {
            Path file = Files.createTempFile("hearth-seccomp-", ".json");
            return Files.writeString(file, profile);
        } catch (IOException e) {
            throw new EngineException("cannot write a container's seccomp profile to a file: " + e.getMessage(), e);
        }
    }

    private static String sandboxHost() {
        try {
            return new ObjectMapper().writeValueAsString(Map.of("defaultAction", "SCMP_ACT_ALLOW",
                    "syscalls", List.of(refuse(REFUSED), clone3())));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a seccomp profile", e);
        }
    }

    /** Any other container's profile on Podman: Podman's default less namespaces and mounts. */
    static String podmanContainer() {
        String profile = podmanContainer;
        if (profile == null) {
            profile = podmanContainer(PODMAN_DEFAULT);
            podmanContainer = profile;
        }
        return profile;
    }

    static String podmanContainer(Path podmanDefault) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode profile;
        try {
            profile = (ObjectNode) json.readTree(podmanDefault.toFile());
        } catch (IOException | ClassCastException e) {
            throw new EngineException("cannot read Podman's default seccomp profile " + podmanDefault
                    + " (package golang-github-containers-common): " + e.getMessage(), e);
        }
        Set<String> refused = new TreeSet<>();
        for (JsonNode rule : profile.withArray("syscalls")) {
            boolean unconditional = rule.path("action").asText().equals("SCMP_ACT_ALLOW")
                    && rule.path("args").isEmpty() && rule.path("includes").isEmpty() && rule.path("excludes").isEmpty();
            // Podman's allow rules that depend on capabilities or arguments stay: containers hold none.
            if (unconditional && rule.get("names") instanceof ArrayNode names) {
                for (int i = names.size() - 1; i >= 0; i--) {
                    if (NOT_ON_PODMAN.contains(names.get(i).asText())) {
                        refused.add(names.get(i).asText());
                        names.remove(i);
                    }
                }
            }
        }
        if (!refused.containsAll(List.of("unshare", "clone", "mount"))) {
            throw new EngineException(podmanDefault + " no longer allows unshare, clone and mount in one rule,"
                    + " as Hearth's changes to it expect; refusing to guess");
        }
        refused.remove("clone");
        // ENOSYS: glibc then falls back to clone, whose flags a filter can see (clone3's it cannot).
        refused.remove("clone3");
        ArrayNode syscalls = profile.withArray("syscalls");
        syscalls.add(json.valueToTree(Map.of("names", List.of("clone"), "action", "SCMP_ACT_ALLOW",
                "args", List.of(Map.of("index", 0, "value", CLONE_NAMESPACE_FLAGS, "valueTwo", 0,
                        "op", "SCMP_CMP_MASKED_EQ")))));
        syscalls.add(json.valueToTree(refuse(List.copyOf(refused))));
        syscalls.add(json.valueToTree(clone3()));
        return profile.toString();
    }

    private static Map<String, Object> refuse(List<String> names) {
        return Map.of("names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
    }

    /** ENOSYS, not EPERM: glibc then falls back to clone, whose flags a filter can see (clone3's it cannot). */
    private static Map<String, Object> clone3() {
        return Map.of("names", List.of("clone3"), "action", "SCMP_ACT_ERRNO", "errnoRet", 38);
    }

}
