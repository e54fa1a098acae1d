package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A from-scratch image holding a jlink-ed Java runtime and the libraries it links: of the JDK
 * running this builder, or for another architecture of Debian's JDK for it, run under qemu-user
 * ({@link JdkRoot}), so that jlink, its class-data-sharing dump and ldd are that architecture's own.
 */
final class JlinkKind implements RecipeKind {

    /**
     * java.desktop (for java.beans) brings native libraries for a screen and sound a service never
     * has; left in, they drag X11's and ALSA's libraries into the image, and fail the build where those
     * are not installed (a fresh machine, another architecture's JDK root).
     */
    private static final String NO_DESKTOP_NATIVES = "--exclude-files=**/libawt_xawt.so,**/libjawt.so,"
            + "**/libsplashscreen.so,**/libjsound.so";
    private static final List<String> OPTIONS = List.of(
            "--strip-debug", "--no-header-files", "--no-man-pages", "--generate-cds-archive", NO_DESKTOP_NATIVES);

    /**
     * glibc's C.UTF-8 locale (Debian's libc-bin): with it and LANG=C.UTF-8, the JVM reads arguments and
     * file names and writes output as UTF-8; without it, a non-ASCII argument (an alias such as
     * "jörg@...") reaches Java as "??". glibc does not build this locale in.
     */
    private static final Path UTF8_LOCALE = Path.of("/usr/lib/locale/C.utf8");
    private final ImageRecipe.Jlink recipe;
    private final ImagePlatform platform;
    /** Made on first use: another architecture's is fetched, which is a build step. */
    private JdkRoot jdk;

    JlinkKind(ImageRecipe.Jlink recipe, ImagePlatform platform) {
        this.recipe = recipe;
        this.platform = platform;
    }

    private JdkRoot jdk(BuildSteps steps) throws IOException {
        if (jdk == null) {
            jdk = platform.foreign() ? JdkRoot.foreign(platform.arch(), steps) : JdkRoot.host();
        }
        return jdk;
    }

    @Override
    public void addInputs(InputHash hash, BuildSteps steps) throws IOException {
        JdkRoot jdk = jdk(steps);
        Path javaHome = jdk.javaHome();
        hash.addPath("jdk-release", jdk.outside(javaHome.resolve("release")))
                .add("jlink-options", OPTIONS)
                .add("security-providers", SecurityProviders.rule())
                .addPath("locale", jdk.outside(UTF8_LOCALE));
        if (!platform.foreign()) {
            hash.add("jdk-version", System.getProperty("java.vm.version"));
        } else {
            hash.add("arch", platform.arch());
        }
        for (Path lib : SharedLibraries.neededBy(jdk.outside(javaHome.resolve("lib")), jdk)) {
            hash.addPath("lib:" + lib, jdk.realOutside(lib));
        }
        for (Path jni : nativeLibraries()) {
            hash.addPath("native:" + jni.getFileName(), jni);
        }
    }

    @Override
    public void prepareContext(Path work, Path context, BuildSteps steps) {
        Path[] rootfs = new Path[1];
        steps.stage("preparing the JDK for " + platform.arch(), () -> rootfs[0] = jdk(steps).workFolder(work).resolve("rootfs"));
        boolean done = false;
        try {
            steps.stage("jlink", () -> jlinkRootfs(rootfs[0], steps));
            steps.stage("adding the hearth user", () -> RootFilesystem.addHearthUser(rootfs[0]));
            steps.stage("writing the Dockerfile", () -> RootFilesystem.writeDockerfile(context, List.of(
                    "ENV JAVA_HOME=/opt/java PATH=/opt/java/bin LANG=C.UTF-8",
                    "CMD [\"java\", \"-version\"]")));
            steps.stage("packing the root filesystem", () -> RootFilesystem.pack(rootfs[0], context.resolve("rootfs.tar"), steps));
            done = true;
        } finally {
            if (!rootfs[0].getParent().equals(work)) {
                try {
                    RootFilesystem.deleteTree(rootfs[0].getParent());
                } catch (IOException | RuntimeException e) {
                    // After a failure its message matters more; a leftover goes with the JDK root's next use.
                    if (done) {
                        throw new ImageBuildException(steps.step + ": removing " + rootfs[0].getParent() + " failed: " + e.getMessage(), e);
                    }
                }
            }
        }
    }

    private void jlinkRootfs(Path rootfs, BuildSteps steps) throws IOException {
        Path javaHome = jdk.javaHome();
        Path runtime = rootfs.resolve("opt/java");
        Files.createDirectories(runtime.getParent());
        steps.progress("jlink " + String.join(",", recipe.modules()) + " for " + platform.arch() + " from " + javaHome
                + (platform.foreign() ? " (Debian's, under emulation)" : ""));
        List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin/jlink").toString(),
                "--add-modules", String.join(",", recipe.modules()), "--output", jdk.inside(runtime).toString()));
        cmd.addAll(OPTIONS);
        steps.run(jdk.command(cmd), line -> Optional.empty());
        SecurityProviders.trim(runtime);
        Path usrLib = Files.createDirectories(rootfs.resolve("usr/lib"));
        for (Path jni : nativeLibraries()) {
            Files.copy(jni, usrLib.resolve(jni.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        // The runtime's and the JNI libraries' needs, resolved together.
        for (Path lib : SharedLibraries.neededBy(rootfs, jdk)) {
            Path target = rootfs.resolve(lib.toString().substring(1));
            Files.createDirectories(target.getParent());
            Files.copy(jdk.realOutside(lib), target, StandardCopyOption.REPLACE_EXISTING);
        }
        RootFilesystem.copyTree(jdk.outside(UTF8_LOCALE), rootfs.resolve(UTF8_LOCALE.toString().substring(1)));
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/nonexistent\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\n");
        Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
        Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    /** The recipe's JNI libraries for this architecture; one missing fails the build, naming the recipe field. */
    private List<Path> nativeLibraries() {
        List<Path> found = new ArrayList<>();
        for (String name : recipe.nativeLibraries()) {
            Path jni = recipe.dir().resolve(name.replace("{arch}", platform.arch())).normalize();
            if (!Files.isRegularFile(jni)) {
                throw new ImageBuildException(recipe.dir().resolve(ImageRecipes.RECIPE_FILE) + ": native-libraries: " + jni
                        + " does not exist (build the module first)");
            }
            found.add(jni);
        }
        return found;
    }
}
