package org.hearth.core.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.List;
import java.util.Map;

/**
 * The system-call filter of a sandbox host. The engine's default filter refuses {@code unshare} and
 * {@code mount} to a container without CAP_SYS_ADMIN, and a sandbox host needs exactly those to put
 * each child into namespaces of its own (as an unprivileged user: they work only inside a new user
 * namespace, never on the host's). Everything else the default filter exists to stop stays refused:
 * kernel modules and keyrings, BPF, perf, ptrace and reading other processes' memory, io_uring,
 * userfaultfd, clocks, swap, reboot, entering other namespaces ({@code setns}), and the old mount API
 * alternatives. The container still has no capabilities, so what needs privilege on the host fails
 * there regardless.
 */
final class SandboxSeccomp {

    private static final List<String> REFUSED = List.of(
            "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
            "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
            "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
            "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount_setattr", "move_mount",
            "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open",
            "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot",
            "request_key", "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs",
            "_sysctl", "umount", "uselib", "userfaultfd", "ustat", "vm86", "vm86old");

    /** The profile as the engine takes it inline ({@code seccomp=JSON}). */
    static final String PROFILE = profile();

    private SandboxSeccomp() {
    }

    private static String profile() {
        try {
            return new ObjectMapper().writeValueAsString(Map.of(
                    "defaultAction", "SCMP_ACT_ALLOW",
                    "syscalls", List.of(
                            Map.of("names", REFUSED, "action", "SCMP_ACT_ERRNO", "errnoRet", 1),
                            // ENOSYS, not EPERM: glibc then falls back to clone, as under the engine's own filter.
                            Map.of("names", List.of("clone3"), "action", "SCMP_ACT_ERRNO", "errnoRet", 38))));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the sandbox seccomp profile", e);
        }
    }
}
