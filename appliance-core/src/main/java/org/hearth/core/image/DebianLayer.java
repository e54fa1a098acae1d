package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.MountNamespace;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The SD image's Debian layer: debootstrap for the recipe's architecture, its second stage and the
 * recipe's packages run under qemu-user in a chroot, in a mount namespace of their own (so /proc,
 * /sys and /dev leave with it). Most of its time is the kernel's initramfs, made once. Cached as a
 * tar in the machine's cache ({@code /var/cache/hearth/sd}) by the SHA-256 of the recipe, the mirror and this layer's format: a
 * second image from the same recipe reuses it, and its package list says exactly what it holds; a
 * new layer replaces those of older inputs.
 */
final class DebianLayer {

    /** @param cached whether it was there already */
    record Built(Path tar, Path packages, boolean cached) {
    }

    private static final Map<String, String> PHASES = Map.of(
            "Retrieving", "downloading packages", "Extracting", "extracting", "Unpacking", "unpacking",
            "Setting", "configuring packages", "update-initramfs:", "making the initramfs (minutes under emulation)",
            "Get:1", "downloading the recipe's packages");
    /** A card flashed today should not start with last season's security fixes missing. */
    private static final Duration MAX_AGE = Duration.ofDays(7);
    /** Raise when the steps below change what the layer holds, so layers made by older steps are not reused. */
    private static final String FORMAT = "1";

    private final SdRecipe recipe;
    private final HearthHome home;

    DebianLayer(SdRecipe recipe, HearthHome home) {
        this.recipe = recipe;
        this.home = home;
    }

    Built build(BuildSteps steps) throws IOException {
        AptSource main = AptSource.forSuite(Path.of("/etc/apt"), recipe.suite());
        List<String> sources = sources(main);
        String hash = new InputHash().add("format", FORMAT).addPath("recipe", recipe.file())
                .add("sources", sources).hex().substring(0, 16);
        Path cache = HearthHome.cacheDir("sd");
        // The cache is the machine's: another checkout building the same layer waits, then finds it.
        try (FileChannel lockFile = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.lock()) {
            return buildLocked(cache, hash, main, sources, steps);
        }
    }

    private Built buildLocked(Path cache, String hash, AptSource main, List<String> sources, BuildSteps steps) throws IOException {
        Path tar = cache.resolve("debian-" + recipe.arch() + "-" + hash + ".tar");
        Path packages = cache.resolve("debian-" + recipe.arch() + "-" + hash + ".packages");
        if (Files.isRegularFile(tar) && Files.isRegularFile(packages)) {
            if (Files.getLastModifiedTime(tar).toInstant().isAfter(Instant.now().minus(MAX_AGE))) {
                steps.progress("Debian layer cached (" + tar.getFileName() + ")");
                return new Built(tar, packages, true);
            }
            steps.progress("Debian layer " + tar.getFileName() + " is older than " + MAX_AGE.toDays()
                    + " days: built again, with Debian's fixes since");
        }
        String id = UUID.randomUUID().toString().substring(0, 8);
        Path work = home.stateDir("work").resolve("sd-debian-" + id);
        Path root = work.resolve("root");
        // Written beside their final names and renamed there, the list last: a layer counts only once both are whole.
        Path partialTar = cache.resolve(".layer-" + id + ".tar.part");
        Path partialList = cache.resolve(".layer-" + id + ".packages.part");
        try {
            bootstrap(root, main, steps);
            install(root, sources, steps);
            steps.run(List.of("sh", "-c", "dpkg-query --admindir=\"$1/var/lib/dpkg\" -W "
                    + "-f='${Package} ${Version} ${Architecture}\\n' | sort > \"$2\"", "dpkg-query", root.toString(),
                    partialList.toString()), line -> Optional.empty());
            clean(root);
            steps.progress("packing the Debian layer");
            steps.run(List.of("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", root.toString(), "-cf",
                    partialTar.toString(), "."), line -> Optional.empty());
            Files.deleteIfExists(packages);
            Files.move(partialTar, tar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(partialList, packages, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            forgetOlderLayers(cache, tar, packages);
            return new Built(tar, packages, false);
        } finally {
            Files.deleteIfExists(partialTar);
            Files.deleteIfExists(partialList);
            RootFilesystem.deleteTree(work);
        }
    }

    /** A layer of other inputs (an older recipe) is never used again, and each is over a GiB. */
    private void forgetOlderLayers(Path cache, Path tar, Path packages) throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("debian-" + recipe.arch() + "-")
                    || f.getFileName().toString().startsWith(".layer-")).toList()) {
                if (!f.equals(tar) && !f.equals(packages)) {
                    Files.delete(f);
                }
            }
        }
    }

    /** The apt lines the box uses, from the mirrors this machine uses: the suite, its updates and its security fixes. */
    private List<String> sources(AptSource main) {
        String components = String.join(" ", recipe.components());
        List<String> lines = new ArrayList<>(List.of("deb " + main.uri() + " " + recipe.suite() + " " + components));
        for (String suite : List.of(recipe.suite() + "-updates", recipe.suite() + "-security")) {
            try {
                lines.add("deb " + AptSource.forSuite(Path.of("/etc/apt"), suite).uri() + " " + suite + " " + components);
            } catch (ImageBuildException e) {
                // This machine's apt has no such source: the box gets none either (docs/sd-image.md says so).
            }
        }
        return lines;
    }

    private void bootstrap(Path root, AptSource source, BuildSteps steps) throws IOException {
        steps.progress("debootstrap " + recipe.suite() + " for " + recipe.arch() + " from " + source.uri());
        List<String> cmd = new ArrayList<>(List.of("debootstrap", "--arch=" + recipe.arch(), "--foreign",
                "--variant=minbase", "--components=" + String.join(",", recipe.components()),
                "--include=systemd-sysv,udev,kmod,dbus", "--cache-dir=" + HearthHome.cacheDir("debootstrap")));
        source.keyring().ifPresent(k -> cmd.add("--keyring=" + k));
        cmd.addAll(List.of(recipe.suite(), root.toString(), source.uri()));
        steps.run(cmd, this::phase);
        DebootstrapKind.secondStage(root, steps, this::phase);
        // No package script starts a service while the recipe's packages install (debootstrap's own
        // guard went with its second stage); SdImage removes this before the card is made.
        Path policy = root.resolve(SdImage.POLICY);
        Files.writeString(policy, "#!/bin/sh\nexit 101\n");
        policy.toFile().setExecutable(true);
    }

    private void install(Path root, List<String> sources, BuildSteps steps) throws IOException {
        Files.write(root.resolve("etc/apt/sources.list"), sources);
        Files.copy(Path.of("/etc/resolv.conf"), root.resolve("etc/resolv.conf"), StandardCopyOption.REPLACE_EXISTING);
        Path initramfs = Files.createDirectories(root.resolve("etc/initramfs-tools/conf.d"));
        Files.writeString(initramfs.resolve("hearth.conf"), "# Only the modules listed (image-build/sd/pi3.yaml)\nMODULES=list\n");
        Files.write(Files.createDirectories(root.resolve("usr/share/initramfs-tools/modules.d")).resolve("hearth"),
                recipe.initramfsModules());
        // raspi-firmware's hook writes cmdline.txt from these: the root by its label, the mini UART and the virt board's console.
        Files.writeString(Files.createDirectories(root.resolve("etc/default")).resolve("raspi-firmware"),
                "ROOTPART=LABEL=hearth-root\nCONSOLES=\"ttyS1,115200 tty1\"\n");
        Files.createDirectories(root.resolve("boot/firmware"));
        steps.progress("installing " + recipe.packages().size() + " packages, under emulation");
        // The root is $0, the packages "$@". /boot/firmware bound onto itself: raspi-firmware's hook wants a mount point.
        String script = "mount -t proc proc \"$0/proc\" && mount -t sysfs sys \"$0/sys\" && mount --bind /dev \"$0/dev\" "
                + "&& mount --bind \"$0/boot/firmware\" \"$0/boot/firmware\" "
                + "&& chroot \"$0\" env DEBIAN_FRONTEND=noninteractive apt-get update -q "
                + "&& chroot \"$0\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
                + "-o Dpkg::Options::=--force-confold \"$@\"";
        List<String> cmd = new ArrayList<>(MountNamespace.around(List.of("sh", "-c", script, root.toString())));
        cmd.addAll(recipe.packages());
        steps.run(cmd, this::phase);
    }

    /** What a box never reads: apt's downloaded packages and lists (its first update fetches them anew). */
    private static void clean(Path root) throws IOException {
        for (String dir : List.of("var/cache/apt/archives", "var/lib/apt/lists")) {
            Path p = root.resolve(dir);
            if (Files.isDirectory(p)) {
                try (var children = Files.list(p)) {
                    for (Path child : children.filter(Files::isRegularFile).toList()) {
                        Files.delete(child);
                    }
                }
            }
        }
        Files.deleteIfExists(root.resolve("etc/resolv.conf"));
    }

    private Optional<String> phase(String line) {
        String first = line.startsWith("I: ") ? line.substring(3).split(" ")[0] : line.split(" ")[0];
        return Optional.ofNullable(PHASES.get(first));
    }
}
