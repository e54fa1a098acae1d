package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A from-scratch image holding a jlink-ed runtime of the build machine's JDK and the libraries it links. */
final class JlinkKind implements RecipeKind {

    private static final List<String> OPTIONS = List.of(
            "--strip-debug", "--no-header-files", "--no-man-pages", "--generate-cds-archive");

    /**
     * glibc's C.UTF-8 locale (Debian's libc-bin): with it and LANG=C.UTF-8, the JVM reads arguments and
     * file names and writes output as UTF-8; without it, a non-ASCII argument (an alias such as
     * "jörg@...") reaches Java as "??". glibc does not build this locale in.
     */
    private static final Path UTF8_LOCALE = Path.of("/usr/lib/locale/C.utf8");
    private final ImageRecipe.Jlink recipe;
    private final BuildTools tools;

    JlinkKind(ImageRecipe.Jlink recipe, BuildTools tools) {
        this.recipe = recipe;
        this.tools = tools;
    }

    @Override
    public void addInputs(InputHash hash) throws IOException {
        Path javaHome = jdkHome();
        hash.addPath("jdk-release", javaHome.resolve("release"))
                .add("jdk-version", System.getProperty("java.vm.version"))
                .add("jlink-options", OPTIONS)
                .add("security-providers", SecurityProviders.rule())
                .addPath("locale", UTF8_LOCALE);
        try {
            for (Path lib : SharedLibraries.neededBy(javaHome.resolve("lib"), tools)) {
                hash.addPath("lib:" + lib, lib);
            }
            for (Path jni : nativeLibraries()) {
                hash.addPath("native:" + jni.getFileName(), jni);
                for (Path lib : SharedLibraries.neededBy(jni, tools)) {
                    hash.addPath("lib:" + lib, lib);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageBuildException("interrupted while hashing " + recipe.name());
        }
    }

    @Override
    public void prepareContext(Path work, Path context, BuildSteps steps) {
        Path rootfs = work.resolve("rootfs");
        steps.stage("jlink", () -> jlinkRootfs(rootfs, steps));
        steps.stage("adding the hearth user", () -> RootFilesystem.addHearthUser(rootfs));
        steps.stage("writing the Dockerfile", () -> RootFilesystem.writeDockerfile(context, List.of(
                "ENV JAVA_HOME=/opt/java PATH=/opt/java/bin LANG=C.UTF-8",
                "CMD [\"java\", \"-version\"]")));
        steps.stage("packing the root filesystem", () -> RootFilesystem.pack(rootfs, context.resolve("rootfs.tar"), steps));
    }

    private void jlinkRootfs(Path rootfs, BuildSteps steps) throws IOException {
        Path javaHome = jdkHome();
        Path runtime = rootfs.resolve("opt/java");
        Files.createDirectories(runtime.getParent());
        steps.progress("jlink " + String.join(",", recipe.modules()) + " from " + javaHome);
        List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin/jlink").toString(),
                "--add-modules", String.join(",", recipe.modules()), "--output", runtime.toString()));
        cmd.addAll(OPTIONS);
        steps.run(cmd, line -> Optional.empty());
        SecurityProviders.trim(runtime);
        Path usrLib = Files.createDirectories(rootfs.resolve("usr/lib"));
        for (Path jni : nativeLibraries()) {
            Files.copy(jni, usrLib.resolve(jni.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            // The runtime's and the JNI libraries' needs, resolved together.
            for (Path lib : SharedLibraries.neededBy(rootfs, tools)) {
                Path target = rootfs.resolve(lib.toString().substring(1));
                Files.createDirectories(target.getParent());
                Files.copy(lib.toRealPath(), target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageBuildException(steps.step + ": interrupted while resolving libraries");
        }
        RootFilesystem.copyTree(UTF8_LOCALE, rootfs.resolve(UTF8_LOCALE.toString().substring(1)));
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/nonexistent\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\n");
        Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
        Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    /** The recipe's JNI libraries; one missing fails the build, naming the recipe field. */
    private List<Path> nativeLibraries() {
        List<Path> found = new ArrayList<>();
        for (String name : recipe.nativeLibraries()) {
            Path jni = recipe.dir().resolve(name).normalize();
            if (!Files.isRegularFile(jni)) {
                throw new ImageBuildException(recipe.dir().resolve(ImageRecipes.RECIPE_FILE) + ": native-libraries: " + jni
                        + " does not exist (build the module first)");
            }
            found.add(jni);
        }
        return found;
    }

    /** The JDK running this builder; its jlink and jmods make the Java base. */
    private static Path jdkHome() {
        Path home = Path.of(System.getProperty("java.home"));
        if (!Files.isRegularFile(home.resolve("bin/jlink")) || !Files.isDirectory(home.resolve("jmods"))) {
            throw new ImageBuildException("the Java runtime at " + home
                    + " has no jlink or jmods: run Hearth with a full JDK (Debian: openjdk-17-jdk-headless)");
        }
        return home;
    }
}
