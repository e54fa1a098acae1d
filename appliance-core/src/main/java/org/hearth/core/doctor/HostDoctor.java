package org.hearth.core.doctor;

import org.hearth.core.SystemTool;
import org.hearth.core.volume.FscryptVolumes;
import org.hearth.core.volume.LuksVolumes;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.EngineException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks what Hearth needs from the host, each with a fix. It only looks: nothing is installed
 * or changed (a network namespace is created by {@code unshare} and vanishes with it).
 */
public final class HostDoctor {

    static final long MIN_FREE_DISK = 2L << 30;
    /** A Raspberry Pi 3 has 1 GiB, of which the kernel keeps a little. */
    static final long MIN_MEMORY = 900L << 20;

    private final String engineHost;
    private final Path stateDir;

    public HostDoctor(String engineHost, Path stateDir) {
        this.engineHost = engineHost;
        this.stateDir = stateDir;
    }

    public List<HostCheck> run() {
        List<HostCheck> checks = new ArrayList<>();
        checks.add(engine());
        checks.add(iptables());
        HostCheck luks = deviceMapper();
        HostCheck fscrypt = ext4Encryption();
        checks.add(luks);
        checks.add(fscrypt);
        checks.add(encryptedStorage(luks, fscrypt));
        checks.add(tun());
        checks.add(networkNamespaces());
        checks.add(imageTools());
        checks.add(disk());
        checks.add(memory());
        checks.add(board());
        checks.add(clock());
        return checks;
    }

    private HostCheck engine() {
        try (Engine engine = Engine.connect(engineHost)) {
            var v = engine.version();
            String name = engine.kind() == Engine.Kind.PODMAN ? "Podman " : "Docker ";
            return HostCheck.ok("engine", true, name + v.getVersion() + " (API " + v.getApiVersion() + ") at " + engineHost);
        } catch (EngineException e) {
            return engineProblem(engineHost, rootCause(e));
        }
    }

    /** The engine's real error, and the fix that fits it: not every unanswered socket means docker.io is missing. */
    static HostCheck engineProblem(String host, Throwable cause) {
        String error = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        String detail = "no engine answers at " + host + ": " + error;
        String lower = error.toLowerCase(java.util.Locale.ROOT);
        Optional<Path> socket = host.startsWith("unix://") ? Optional.of(Path.of(host.substring("unix://".length())))
                : Optional.empty();
        String fix;
        if (lower.contains("permission denied") || lower.contains("access denied")) {
            fix = "run hearth as root, or add this user to the socket's group (usermod -aG docker $USER, then log in again)";
        } else if (socket.isPresent() && Files.exists(socket.get()) && lower.contains("connection refused")) {
            fix = "the socket " + socket.get() + " exists but dockerd is not listening on it: start it with"
                    + " scripts/engine-up (its log says why it stopped)";
        } else if (socket.isPresent() && !Files.exists(socket.get())) {
            fix = HostCommand.onPath("dockerd")
                    ? "dockerd is installed but not running: start it with scripts/engine-up"
                    : "run scripts/engine-up (installs Debian's docker.io and starts dockerd)";
        } else {
            fix = "check that the engine at " + host + " is up and answers the Docker API (scripts/engine-up starts"
                    + " the local one)";
        }
        return HostCheck.missing("engine", true, detail, fix);
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static HostCheck iptables() {
        SystemTool.Result list = HostCommand.run("iptables", "-w", "-S", "FORWARD");
        if (list.exitCode() == 0) {
            String version = HostCommand.run("iptables", "--version").output().strip();
            return HostCheck.ok("iptables", true, version + "; the engine isolates internal networks with it");
        }
        return HostCheck.missing("iptables", true, "iptables unusable: " + list.firstLine(),
                "apt-get install iptables, and run as root (the engine needs it to isolate networks)");
    }

    private static HostCheck deviceMapper() {
        // /proc/misc, not /dev/mapper/control: cryptsetup creates that node even where the kernel has no dm.
        if (!fileContains(Path.of("/proc/misc"), "device-mapper")) {
            return HostCheck.missing("device-mapper", false, "no device-mapper in this kernel: LUKS2 volumes impossible",
                    "load dm_crypt (modprobe dm_crypt) or use a kernel with CONFIG_DM_CRYPT; fscrypt is used meanwhile");
        }
        return LuksVolumes.available()
                ? HostCheck.ok("device-mapper", false, "kernel device-mapper present: LUKS2 volumes possible")
                : HostCheck.missing("device-mapper", false, "device-mapper present but cryptsetup is absent",
                "apt-get install cryptsetup-bin");
    }

    private static HostCheck ext4Encryption() {
        boolean kernel = Files.exists(Path.of("/sys/fs/ext4/features/encryption"));
        if (!kernel) {
            return HostCheck.missing("ext4-encryption", false, "kernel lacks ext4 native encryption",
                    "use a kernel with CONFIG_FS_ENCRYPTION");
        }
        return FscryptVolumes.available()
                ? HostCheck.ok("ext4-encryption", false, "ext4 native encryption: fscrypt volumes possible")
                : HostCheck.missing("ext4-encryption", false,
                "kernel supports ext4 encryption but loop devices or mkfs.ext4/losetup are absent",
                "modprobe loop; apt-get install e2fsprogs mount");
    }

    private static HostCheck encryptedStorage(HostCheck luks, HostCheck fscrypt) {
        if (luks.ok()) {
            return HostCheck.ok("encrypted-storage", true, "backend luks2");
        }
        if (fscrypt.ok()) {
            return HostCheck.ok("encrypted-storage", true, "backend fscrypt (no device-mapper here)");
        }
        return HostCheck.missing("encrypted-storage", true, "neither LUKS2 nor fscrypt can work here",
                "see the device-mapper and ext4-encryption lines above");
    }

    private static HostCheck tun() {
        Path tun = Path.of("/dev/net/tun");
        if (kernelWireGuard()) {
            return HostCheck.ok("tun", false, "the kernel has WireGuard: the overlay runs in it (no wireguard-go)");
        }
        return Files.exists(tun) && Files.isReadable(tun) && Files.isWritable(tun)
                ? HostCheck.ok("tun", false, "/dev/net/tun usable: the WireGuard overlay can run (wireguard-go)")
                : HostCheck.missing("tun", false, "/dev/net/tun missing or not usable",
                "modprobe tun (containers: pass --device /dev/net/tun); without it only the loopback overlay works");
    }

    /** The kernel's WireGuard: loaded, built in, or a module the overlay's first {@code ip link add} loads. */
    private static boolean kernelWireGuard() {
        String release = System.getProperty("os.version");
        Path modules = Path.of("/lib/modules", release);
        if (Files.isDirectory(Path.of("/sys/module/wireguard"))
                || Files.isDirectory(modules.resolve("kernel/drivers/net/wireguard"))) {
            return true;
        }
        try {
            return Files.readAllLines(modules.resolve("modules.builtin")).stream().anyMatch(l -> l.endsWith("/wireguard.ko"));
        } catch (IOException none) {
            return false;
        }
    }

    private static HostCheck networkNamespaces() {
        SystemTool.Result r = HostCommand.run("unshare", "--net", "true");
        return r.exitCode() == 0
                ? HostCheck.ok("netns", false, "network namespaces can be created")
                : HostCheck.missing("netns", false, "cannot create a network namespace: " + r.firstLine(),
                "run as root on a kernel with CONFIG_NET_NS (needed by the overlay tests)");
    }

    private static HostCheck imageTools() {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        List<String> absent = new ArrayList<>();
        if (!HostCommand.onPath("debootstrap")) {
            absent.add("debootstrap");
        }
        if (!Files.isExecutable(jlink)) {
            absent.add("jlink");
        }
        return absent.isEmpty()
                ? HostCheck.ok("image-tools", false, "debootstrap and jlink present: images can be built here")
                : HostCheck.missing("image-tools", false, "cannot build images here: no " + String.join(", ", absent),
                "apt-get install debootstrap openjdk-17-jdk-headless");
    }

    private HostCheck disk() {
        try {
            Path existing = stateDir;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            long free = Files.getFileStore(existing == null ? Path.of("/") : existing).getUsableSpace();
            String detail = String.format("%.1f GiB free for %s", free / (double) (1L << 30), stateDir);
            return free >= MIN_FREE_DISK
                    ? HostCheck.ok("disk", true, detail)
                    : HostCheck.missing("disk", true, detail, "free at least 2 GiB (images and mail need room)");
        } catch (IOException e) {
            return HostCheck.missing("disk", true, "cannot read free space: " + e.getMessage(), "check " + stateDir);
        }
    }

    private static HostCheck memory() {
        long total = memTotal();
        String detail = String.format("%d MiB of memory", total >> 20);
        return total >= MIN_MEMORY
                ? HostCheck.ok("memory", true, detail)
                : HostCheck.missing("memory", true, detail, "Hearth needs about 1 GiB (a Raspberry Pi 3 or larger)");
    }

    /** What the box is: a board's device-tree model (a Raspberry Pi), else the firmware's product name. */
    private static HostCheck board() {
        String model = firstLine(Path.of("/proc/device-tree/model"))
                .or(() -> firstLine(Path.of("/sys/class/dmi/id/product_name"))).orElse("unknown machine");
        return HostCheck.ok("board", false, model + " (" + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores)");
    }

    /**
     * A Raspberry Pi has no real-time clock: until the network time is known it starts in the past,
     * when certificates and signed catalogs look not yet valid. systemd-timesyncd marks the sync.
     */
    private static HostCheck clock() {
        return Files.exists(Path.of("/run/systemd/timesync/synchronized"))
                ? HostCheck.ok("clock", false, "synchronized with network time (systemd-timesyncd)")
                : HostCheck.missing("clock", false, "not known to be synchronized with network time",
                "let systemd-timesyncd reach an NTP server (timedatectl timesync-status)");
    }

    private static Optional<String> firstLine(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.ISO_8859_1).replace("\0", "").strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(text.lines().findFirst().orElse(text));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) << 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static boolean fileContains(Path file, String text) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }
}
