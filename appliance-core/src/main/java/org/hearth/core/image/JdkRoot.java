package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.MountNamespace;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the Java base's runtime comes from: the JDK running this builder, or, for another
 * architecture, Debian's OpenJDK of that architecture unpacked into a root whose programs (jlink,
 * the class-data-sharing dump, ldd) run in a chroot under qemu-user. Paths "inside" are as the
 * root's programs see them; {@link #outside} is where this machine finds them.
 */
final class JdkRoot {

    /** Debian's JDK package: jlink and the jmods are in the -jdk-headless one. */
    private static final String JDK_PACKAGE = "openjdk-17-jdk-headless";
    /** Debian's jlink strips native debug symbols with objcopy. */
    private static final List<String> PACKAGES = List.of(JDK_PACKAGE, "binutils");
    /** A Java base for the Pi should not miss a week of Debian's security fixes. */
    private static final Duration MAX_AGE = Duration.ofDays(7);
    /** Raise when {@link #foreign} changes what the root holds. */
    private static final String FORMAT = "2";

    private final Path root;
    private final Path javaHome;
    private final boolean chroot;

    private JdkRoot(Path root, Path javaHome, boolean chroot) {
        this.root = root;
        this.javaHome = javaHome;
        this.chroot = chroot;
    }

    /** The JDK running this builder; its jlink and jmods make the Java base. */
    static JdkRoot host() {
        Path home = Path.of(System.getProperty("java.home"));
        if (!Files.isRegularFile(home.resolve("bin/jlink")) || !Files.isDirectory(home.resolve("jmods"))) {
            throw new ImageBuildException("the Java runtime at " + home
                    + " has no jlink or jmods: run Hearth with a full JDK (Debian: openjdk-17-jdk-headless)");
        }
        return new JdkRoot(Path.of("/"), home, false);
    }

    /**
     * Debian's JDK for {@code arch}: debootstrap's first stage (no emulation) resolves and downloads it
     * with what it links, and each package is unpacked (no package scripts: nothing here needs them).
     * Kept in the machine's cache ({@code /var/cache/hearth/jdk-ARCH}) for a week.
     */
    static JdkRoot foreign(String arch, BuildSteps steps) throws IOException {
        AptSource source = AptSource.forSuite(Path.of("/etc/apt"), "bookworm");
        Path cache = HearthHome.cacheDir("jdk-" + arch);
        String inputs = new InputHash().add("format", FORMAT).add("mirror", source.uri()).add("packages", PACKAGES).hex();
        Path done = cache.resolve("complete");
        Path root = cache.resolve("root");
        Path javaHome = Path.of("/usr/lib/jvm/java-17-openjdk-" + arch);
        if (Files.isRegularFile(done) && Files.readString(done).strip().equals(inputs)
                && Files.getLastModifiedTime(done).toInstant().isAfter(Instant.now().minus(MAX_AGE))) {
            removeAbandonedWork(root);
            return new JdkRoot(root, javaHome, true);
        }
        Files.deleteIfExists(done);
        RootFilesystem.deleteTree(root);
        steps.progress("fetching Debian's " + JDK_PACKAGE + " for " + arch + " from " + source.uri());
        List<String> cmd = new ArrayList<>(List.of("debootstrap", "--arch=" + arch, "--foreign", "--variant=minbase",
                "--include=" + String.join(",", PACKAGES), "--cache-dir=" + HearthHome.cacheDir("debootstrap")));
        source.keyring().ifPresent(k -> cmd.add("--keyring=" + k));
        cmd.addAll(List.of("bookworm", root.toString(), source.uri()));
        steps.run(cmd, line -> Optional.empty());
        Path archives = root.resolve("var/cache/apt/archives");
        try (Stream<Path> debs = Files.list(archives)) {
            for (Path deb : debs.filter(p -> p.toString().endsWith(".deb")).sorted().toList()) {
                // tar keeps the root's /bin -> usr/bin links (merged /usr) where dpkg-deb -x would replace them.
                steps.run(List.of("sh", "-c", "dpkg-deb --fsys-tarfile \"$0\" | tar -x --keep-directory-symlink -C \"$1\"",
                        deb.toString(), root.toString()), line -> Optional.empty());
                Files.delete(deb);
            }
        }
        JdkRoot jdk = new JdkRoot(root, javaHome, true);
        if (!Files.isRegularFile(jdk.outside(javaHome.resolve("bin/jlink")))) {
            throw new ImageBuildException(JDK_PACKAGE + " for " + arch + " gave no " + javaHome.resolve("bin/jlink"));
        }
        Files.writeString(done, inputs + "\n");
        return jdk;
    }

    Path javaHome() {
        return javaHome;
    }

    /** Work folders a killed build left in the root (a jlink-ed runtime each); none is in use (see {@link ImageBuilder}'s lock). */
    private static void removeAbandonedWork(Path root) throws IOException {
        try (Stream<Path> children = Files.list(root)) {
            for (Path p : children.filter(p -> p.getFileName().toString().startsWith(WORK_PREFIX)).toList()) {
                RootFilesystem.deleteTree(p);
            }
        }
    }

    private static final String WORK_PREFIX = "hearth-build-";

    /** The root's programs see the tree of this machine's {@code outside} at the path this returns. */
    Path inside(Path outside) {
        Path abs = outside.toAbsolutePath().normalize();
        if (!abs.startsWith(root)) {
            throw new IllegalArgumentException(outside + " is not under " + root);
        }
        return Path.of("/").resolve(root.relativize(abs).toString());
    }

    /** Where this machine finds the root's {@code inside}. */
    Path outside(Path inside) {
        return root.resolve(Path.of("/").relativize(inside).toString());
    }

    /** A work folder the root's programs can reach. */
    Path workFolder(Path hostWork) throws IOException {
        return chroot ? Files.createTempDirectory(root, WORK_PREFIX) : hostWork;
    }

    /** {@code argv} as run in the root: in a chroot with /proc and /dev, in a mount namespace of its own. */
    List<String> command(List<String> argv) {
        if (!chroot) {
            return argv;
        }
        return inRoot(root, argv);
    }

    /** {@code argv} as run in the foreign {@code root}: in a chroot with /proc and /dev, in a mount namespace of its own. */
    static List<String> inRoot(Path root, List<String> argv) {
        List<String> cmd = new ArrayList<>(MountNamespace.around(List.of("sh", "-c",
                "mount -t proc proc \"$0/proc\" && mount --bind /dev \"$0/dev\" && exec chroot \"$0\" \"$@\"",
                root.toString())));
        cmd.addAll(argv);
        return cmd;
    }

    /** Runs {@code argv} in the root and returns its output; a non-zero exit fails the build, with its output. */
    String output(List<String> argv) throws IOException {
        SystemTool.Result r = SystemTool.attempt(Duration.ofMinutes(10), Map.of(), new byte[0],
                command(argv).toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new ImageBuildException(String.join(" ", argv) + " exited with " + r.exitCode() + ": " + r.output().strip());
        }
        return r.output();
    }

    /**
     * The file a path inside the root finally names, its symbolic links followed inside the root
     * (an absolute link target is the root's, not this machine's).
     */
    Path realOutside(Path inside) throws IOException {
        Path current = Path.of("/");
        List<Path> rest = new ArrayList<>();
        inside.normalize().forEach(rest::add);
        for (int hops = 0; !rest.isEmpty(); ) {
            Path next = current.resolve(rest.remove(0));
            Path there = outside(next);
            if (Files.isSymbolicLink(there)) {
                if (++hops > 40) {
                    throw new ImageBuildException(inside + ": too many symbolic links in " + root);
                }
                Path target = Files.readSymbolicLink(there);
                List<Path> parts = new ArrayList<>();
                (target.isAbsolute() ? Path.of("/").relativize(target) : target).forEach(parts::add);
                rest.addAll(0, parts);
                current = target.isAbsolute() ? Path.of("/") : current;
            } else {
                current = next.normalize();
            }
        }
        Path file = outside(current);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageBuildException(inside + " is not in " + root);
        }
        return file;
    }
}
