package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Lets this machine run another architecture's programs, as the Debian layer's package scripts
 * need: the kernel's binfmt_misc hands them to qemu-user-static. Registered with the F flag, the
 * interpreter is opened once, so it works inside a chroot that has no copy of it.
 */
final class Binfmt {

    private static final Path MISC = Path.of("/proc/sys/fs/binfmt_misc");
    /** Debian's architecture names and qemu's. */
    private static final Map<String, String> QEMU = Map.of("arm64", "aarch64", "armhf", "arm", "amd64", "x86_64");

    private Binfmt() {
    }

    static void ensure(String arch, BuildSteps steps) throws IOException {
        String host = steps.tools.hostArchitecture();
        if (host.equals(arch)) {
            return;
        }
        String qemu = Optional.ofNullable(QEMU.get(arch)).orElseThrow(() -> new ImageBuildException(
                "arch " + arch + ": not one this build knows (" + String.join(", ", QEMU.keySet()) + ")"));
        if (!Files.exists(MISC.resolve("register"))) {
            steps.run(List.of("mount", "-t", "binfmt_misc", "binfmt_misc", MISC.toString()), line -> Optional.empty());
        }
        Path entry = MISC.resolve("qemu-" + qemu);
        if (!Files.exists(entry) || !Files.readString(entry).startsWith("enabled")) {
            steps.run(List.of("update-binfmts", "--enable", "qemu-" + qemu), line -> Optional.empty());
        }
        String registration = Files.exists(entry) ? Files.readString(entry) : "";
        if (!registration.startsWith("enabled") || !registration.matches("(?s).*\\nflags: [A-Z]*F[A-Z]*\\n.*")) {
            throw new ImageBuildException("binfmt_misc has no usable qemu-" + qemu + " entry (" + entry
                    + " should be enabled with the F flag; install qemu-user-static and binfmt-support)");
        }
    }
}
