package org.hearth.core.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
 * make a user namespace and every other kind inside it. Hearth gives such containers the sandbox
 * host's filter less those namespaces: no {@code unshare}, no {@code clone} with a namespace flag, no
 * mount. On Docker they keep the engine's default (a list of what is allowed, which refuses those too).
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

    /** What only a sandbox host may do. */
    private static final List<String> NAMESPACES_AND_MOUNTS = List.of("unshare", "mount", "umount2", "chroot");

    /**
     * clone's flags that make a namespace (mount, cgroup, UTS, IPC, user, PID, network). clone's first
     * argument holds them on x86-64 and arm64 alike.
     */
    private static final long[] CLONE_NAMESPACE_FLAGS = {
            0x00020000L, 0x02000000L, 0x04000000L, 0x08000000L, 0x10000000L, 0x20000000L, 0x40000000L};

    /** A sandbox host's profile as Docker takes it inline ({@code seccomp=JSON}). */
    static final String SANDBOX_HOST = sandboxHost();

    /** Any other container's profile, on an engine whose default lets it make namespaces (Podman). */
    static final String CONTAINER = container();

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
        return json(List.of(refuse(REFUSED), clone3()));
    }

    private static String container() {
        List<Object> rules = new ArrayList<>(List.of(refuse(REFUSED), refuse(NAMESPACES_AND_MOUNTS), clone3()));
        for (long flag : CLONE_NAMESPACE_FLAGS) {
            // One rule per flag: a rule's conditions must all hold, and any one flag is enough to refuse.
            rules.add(Map.of("names", List.of("clone"), "action", "SCMP_ACT_ERRNO", "errnoRet", 1,
                    "args", List.of(Map.of("index", 0, "value", flag, "valueTwo", flag, "op", "SCMP_CMP_MASKED_EQ"))));
        }
        return json(rules);
    }

    private static Map<String, Object> refuse(List<String> names) {
        return Map.of("names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
    }

    /** ENOSYS, not EPERM: glibc then falls back to clone, whose flags a filter can see (clone3's it cannot). */
    private static Map<String, Object> clone3() {
        return Map.of("names", List.of("clone3"), "action", "SCMP_ACT_ERRNO", "errnoRet", 38);
    }

    private static String json(List<?> rules) {
        try {
            return new ObjectMapper().writeValueAsString(Map.of("defaultAction", "SCMP_ACT_ALLOW", "syscalls", rules));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a seccomp profile", e);
        }
    }
}
