package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.MountNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A Debian root filesystem made by debootstrap from the build machine's own apt mirror; for another
 * architecture, debootstrap's second stage runs under qemu-user in a chroot.
 */
final class DebootstrapKind implements RecipeKind {

    private static final Map<String, String> PHASES = Map.of(
            "Retrieving", "downloading packages", "Extracting", "extracting",
            "Installing", "installing core packages", "Unpacking", "unpacking",
            "Configuring", "configuring", "Base", "base system installed");

    private final ImageRecipe.Debootstrap recipe;
    private final ImagePlatform platform;

    DebootstrapKind(ImageRecipe.Debootstrap recipe, ImagePlatform platform) {
        this.recipe = recipe;
        this.platform = platform;
    }

    @Override
    public void addInputs(InputHash hash, BuildSteps steps) throws IOException {
        AptSource source = AptSource.forSuite(Path.of("/etc/apt"), recipe.suite());
        hash.add("mirror", source.uri()).add("arch", platform.arch());
    }

    @Override
    public void prepareContext(Path work, Path context, BuildSteps steps) {
        Path rootfs = work.resolve("rootfs");
        steps.stage("debootstrap", () -> debootstrap(rootfs, steps));
        steps.stage("trimming the root filesystem", () -> trim(rootfs));
        steps.stage("adding the hearth user", () -> RootFilesystem.addHearthUser(rootfs));
        steps.stage("writing the Dockerfile", () -> RootFilesystem.writeDockerfile(context, List.of("CMD [\"/bin/sh\"]")));
        steps.stage("packing the root filesystem", () -> RootFilesystem.pack(rootfs, context.resolve("rootfs.tar"), steps));
    }

    private void debootstrap(Path rootfs, BuildSteps steps) throws IOException {
        AptSource source = AptSource.forSuite(Path.of("/etc/apt"), recipe.suite());
        steps.progress("debootstrap " + recipe.suite() + " (" + recipe.variant() + ") for " + platform.arch() + " from " + source.uri());
        List<String> cmd = new ArrayList<>(List.of("debootstrap", "--variant=" + recipe.variant(),
                "--cache-dir=" + HearthHome.cacheDir("debootstrap")));
        if (platform.foreign()) {
            cmd.addAll(List.of("--arch=" + platform.arch(), "--foreign"));
        }
        if (!recipe.include().isEmpty()) {
            cmd.add("--include=" + String.join(",", recipe.include()));
        }
        source.keyring().ifPresent(k -> cmd.add("--keyring=" + k));
        cmd.addAll(List.of(recipe.suite(), rootfs.toString(), source.uri()));
        // debootstrap prints a line per package and step; show each phase once.
        try {
            steps.run(cmd, DebootstrapKind::phase);
            if (platform.foreign()) {
                secondStage(rootfs, steps, DebootstrapKind::phase);
            }
        } catch (ImageBuildException e) {
            // The work folder is deleted after a failure; keep debootstrap's detailed log where the user can read it.
            Path detail = rootfs.resolve("debootstrap/debootstrap.log");
            if (Files.isRegularFile(detail)) {
                Path kept = steps.home.stateDir("logs").resolve("debootstrap-" + recipe.name().replace('/', '-') + ".log");
                Files.copy(detail, kept, StandardCopyOption.REPLACE_EXISTING);
                throw new ImageBuildException(e.getMessage() + "\n  debootstrap's own log: " + kept, e);
            }
            throw e;
        }
    }

    private static Optional<String> phase(String line) {
        return line.startsWith("I: ") ? Optional.ofNullable(PHASES.get(line.substring(3).split(" ")[0])) : Optional.empty();
    }

    /**
     * Finishes a root that {@code debootstrap --foreign} unpacked for another architecture: its second
     * stage runs in a chroot under qemu-user, in a mount namespace of its own (debootstrap itself keeps
     * package scripts from starting services meanwhile).
     */
    static void secondStage(Path root, BuildSteps steps, Function<String, Optional<String>> phase) throws IOException {
        steps.progress("debootstrap's second stage, under emulation");
        steps.run(MountNamespace.around(List.of("chroot", root.toString(), "/debootstrap/debootstrap", "--second-stage")), phase);
    }

    /** Drops what a service never reads (docs, man pages, apt caches) to keep images small. */
    private static void trim(Path rootfs) throws IOException {
        for (String dir : List.of("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
                "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf")) {
            Path p = rootfs.resolve(dir);
            if (Files.isDirectory(p)) {
                try (Stream<Path> children = Files.list(p)) {
                    for (Path child : children.toList()) {
                        RootFilesystem.deleteTree(child);
                    }
                }
            }
        }
    }
}
