package org.hearth.core.image;

import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.hearth.core.HearthHome;
import org.hearth.core.SystemTool;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The flashable SD card image for a Raspberry Pi 3 ({@code hearth image sd}; docs/sd-image.md):
 * a FAT boot partition (the Pi's firmware, Debian's kernel and initrd, config.txt, cmdline.txt) and
 * an ext4 root partition (Debian for the board's architecture, a Java runtime, the engine, Hearth
 * and its first-boot services), compressed beside it with their SHA-256 sums and the package list.
 *
 * <p>Two layers: the Debian layer (debootstrap for ARCH finished under qemu-user, then the recipe's
 * packages) takes minutes and is cached by its inputs; Hearth's layer (its jars, the files of
 * {@code image-build/sd/rootfs}, the registry it pairs through) is added on every build. The disk is
 * assembled without loop devices or FAT mounts, which this build machine's kernel lacks.
 */
public final class SdImage {

    /** The recipe, relative to the installation. */
    public static final String RECIPE = "image-build/sd/pi3.yaml";
    /** Where Debian's package scripts ask whether they may start a service. */
    static final String POLICY = "usr/sbin/policy-rc.d";
    /** Files copied over the Debian layer as they are, relative to the installation. */
    static final String ROOTFS_FILES = "image-build/sd/rootfs";
    static final int BOOT_MIB = 256;
    /** Where the partitions start: 1 MiB, the usual alignment for SD cards' erase blocks. */
    static final int FIRST_MIB = 1;
    /** The installation's units the box starts; the first boot enables ssh only when a key was given. */
    private static final List<String> UNITS = List.of("hearth-first-boot.service", "hearth.service",
            "hearth-ready.service", "systemd-networkd.service", "systemd-resolved.service", "systemd-timesyncd.service",
            "avahi-daemon.service", "podman.socket");

    /**
     * @param out           the raw image; {@code OUT.xz}, {@code OUT.sha256} and {@code OUT.packages} go beside it
     * @param wifi          a {@code hearth-wifi.txt} to put on the boot partition
     * @param sshKey        a public key the first boot lets log in as root
     * @param registry      the registry the box pairs through
     * @param supervisorJvm the supervisor's JVM options (sized for the board)
     * @param arch          the board's Debian architecture; the recipe must be for it
     * @param catalog       the catalog the box installs apps from, if any
     */
    public record Options(Path out, Optional<Path> wifi, Optional<Path> sshKey, URI registry, List<String> supervisorJvm,
                          String arch, Optional<Catalog> catalog) {
    }

    /**
     * A catalog source for the card's appliance.yaml (docs/catalog.md).
     *
     * @param keys  the publisher's public keys the box pins ({@code ed25519:BASE64}, checked by the caller)
     * @param trust the CA of the URL's certificate when Java does not trust it, copied onto the card
     */
    public record Catalog(String name, URI url, List<String> keys, Optional<Path> trust) {
    }

    /** What was built, and how long each part took. */
    public record Result(Path image, Path compressed, String imageSha256, String compressedSha256, long imageBytes,
                         long compressedBytes, boolean layerCached, Duration layer, Duration assemble, Duration compress) {
    }

    private final HearthHome home;
    private final BuildTools tools;
    private final Consumer<String> progress;

    public SdImage(HearthHome home, Consumer<String> progress) {
        this.home = home;
        this.tools = BuildTools.fromEnvironment();
        this.progress = progress;
    }

    public Result build(Options options) {
        SdRecipe recipe = SdRecipe.load(home.root().resolve(RECIPE));
        if (!recipe.arch().equals(options.arch())) {
            throw new ImageBuildException("--arch " + options.arch() + ": the recipe " + recipe.file() + " is for "
                    + recipe.arch() + " (the Raspberry Pi 3 runs arm64)");
        }
        BuildSteps steps = new BuildSteps(home, tools, progress, "sd image (" + recipe.arch() + ")", recipe.file());
        steps.stage("checking that this machine runs " + recipe.arch() + " programs", () -> Binfmt.ensure(recipe.arch(), steps));
        long t0 = System.nanoTime();
        DebianLayer.Built[] layer = new DebianLayer.Built[1];
        steps.stage("the Debian layer", () -> layer[0] = new DebianLayer(recipe, home).build(steps));
        long t1 = System.nanoTime();
        Path work = home.stateDir("work").resolve("sd-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            Path root = work.resolve("root");
            Path boot = work.resolve("boot");
            steps.stage("unpacking the Debian layer", () -> {
                Files.createDirectories(root);
                steps.run(List.of("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", root.toString(),
                        "-xf", layer[0].tar().toString()), line -> Optional.empty());
            });
            steps.stage("adding Hearth", () -> addHearth(root, options, steps));
            steps.stage("filling the boot partition", () -> fillBoot(root, boot, options));
            steps.stage("assembling the disk", () -> DiskImage.assemble(root, boot, options.out(), work, steps));
            long t2 = System.nanoTime();
            Path xz = options.out().resolveSibling(options.out().getFileName() + ".xz");
            String[] sums = new String[2];
            long[] sizes = new long[2];
            steps.stage("compressing", () -> {
                steps.progress("compressing to " + xz.getFileName());
                Path partial = xz.resolveSibling(xz.getFileName() + ".partial");
                // -1: a fifth of -6's time for a sixth more size (docs/sd-image.md has both).
                steps.run(List.of("sh", "-c", "xz -T0 -1 -c \"$1\" > \"$2\"", "xz", options.out().toString(),
                        partial.toString()), line -> Optional.empty());
                Files.move(partial, xz, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                if (options.wifi().isPresent()) {
                    // They hold the Wi-Fi password until the box's first boot takes it off its card.
                    for (Path secret : List.of(options.out(), xz)) {
                        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
                    }
                }
                sums[0] = sha256(options.out());
                sums[1] = sha256(xz);
                sizes[0] = Files.size(options.out());
                sizes[1] = Files.size(xz);
                Files.writeString(options.out().resolveSibling(options.out().getFileName() + ".sha256"),
                        sums[0] + "  " + options.out().getFileName() + "\n" + sums[1] + "  " + xz.getFileName() + "\n");
                Files.copy(layer[0].packages(), options.out().resolveSibling(options.out().getFileName() + ".packages"),
                        StandardCopyOption.REPLACE_EXISTING);
            });
            long t3 = System.nanoTime();
            return new Result(options.out(), xz, sums[0], sums[1], sizes[0], sizes[1], layer[0].cached(),
                    Duration.ofNanos(t1 - t0), Duration.ofNanos(t2 - t1), Duration.ofNanos(t3 - t2));
        } finally {
            try {
                RootFilesystem.deleteTree(work);
            } catch (IOException e) {
                progress.accept("sd image: could not remove " + work + ": " + e.getMessage());
            }
        }
    }

    /** Hearth's layer: its jars, the box's own files, the registry it pairs through, and what starts at boot. */
    private void addHearth(Path root, Options options, BuildSteps steps) throws IOException {
        Path jar = home.root().resolve("appliance-core/target/appliance-core.jar");
        if (!Files.isRegularFile(jar)) {
            throw new ImageBuildException(jar + " is missing: build Hearth first (./hearth builds it)");
        }
        Path opt = Files.createDirectories(root.resolve("opt/hearth"));
        rootOwned(opt, true);
        Files.copy(jar, opt.resolve("appliance-core.jar"), StandardCopyOption.REPLACE_EXISTING);
        overlay(jar.resolveSibling("lib"), opt.resolve("lib"));
        overlay(home.root().resolve("manifests"), opt.resolve("manifests"));
        overlay(home.root().resolve(ROOTFS_FILES), root);
        Files.write(opt.resolve("supervisor.jvm"), options.supervisorJvm());
        // The box's settings, copied to the data partition's state folder at the first boot.
        List<String> files = new ArrayList<>(List.of("appliance-core.jar", "supervisor.jvm", "appliance.yaml"));
        if (options.catalog().flatMap(Catalog::trust).isPresent()) {
            Files.copy(options.catalog().get().trust().get(), opt.resolve(CATALOG_TRUST.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            files.add(CATALOG_TRUST.getFileName().toString());
        }
        Files.writeString(opt.resolve("appliance.yaml"), applianceYaml(options));
        if (commandLineArchive(root, steps)) {
            files.add(CLI_ARCHIVE.getFileName().toString());
        }
        for (String file : files) {
            rootOwned(opt.resolve(file), false);
        }
        // This box's identity is made on the box: no machine id, no SSH host keys from the build.
        Files.writeString(root.resolve("etc/machine-id"), "");
        Files.deleteIfExists(root.resolve("var/lib/dbus/machine-id"));
        try (Stream<Path> keys = Files.list(root.resolve("etc/ssh"))) {
            for (Path key : keys.filter(k -> k.getFileName().toString().startsWith("ssh_host_")).toList()) {
                Files.delete(key);
            }
        }
        Path resolv = root.resolve("etc/resolv.conf");
        Files.deleteIfExists(resolv);
        Files.createSymbolicLink(resolv, Path.of("../run/systemd/resolve/stub-resolv.conf"));
        // Package scripts may start services again now that the box boots for real.
        Files.deleteIfExists(root.resolve(POLICY));
        List<String> enable = new ArrayList<>(List.of("systemctl", "--root=" + root, "enable", "--quiet"));
        enable.addAll(UNITS);
        steps.run(enable, line -> Optional.empty());
        // Key login only, and only once the first boot found a key on the boot partition. And no
        // resident Python (17 MiB) waiting for shutdown to finish an upgrade: apt's daily timer
        // still runs unattended-upgrade, and dpkg finishes one cut short at the next run.
        steps.run(List.of("systemctl", "--root=" + root, "disable", "--quiet", "ssh.service", "unattended-upgrades.service"),
                line -> Optional.empty());
        lockedRoot(root);
    }

    /** The class-data archive of the box's command line, which /usr/local/bin/hearth uses when present. */
    static final Path CLI_ARCHIVE = Path.of("/opt/hearth/cli.jsa");

    /**
     * Makes the command line's class-data archive with the card's own JDK (under qemu-user, in a
     * chroot), as the build machine's launcher does after each build, so each {@code hearth} command
     * on the box loads fewer classes from its jars (docs/benchmarks.md; not yet measured on a board).
     * Made here because it must match the card's JDK and jars, and the board would otherwise spend
     * its first minutes on it. Whatever goes wrong leaves the card without one: the command line
     * runs the same, only slower.
     */
    private static boolean commandLineArchive(Path root, BuildSteps steps) throws IOException {
        Path state = Path.of("/tmp/hearth-cli-archive");
        // A heap sized as the board's (the build machine's could turn compressed pointers off, and
        // the archive would not map there).
        List<String> cmd = JdkRoot.inRoot(root, List.of("java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                "-XX:ArchiveClassesAtExit=" + CLI_ARCHIVE, "-Dhearth.home=/opt/hearth", "-jar", "/opt/hearth/appliance-core.jar",
                "--state-dir", state.toString(), "status"));
        steps.progress("archiving the command line's classes (the card's JDK, under qemu-user)");
        Path archive = root.resolve(Path.of("/").relativize(CLI_ARCHIVE).toString());
        String failure;
        try {
            SystemTool.Result made = SystemTool.attempt(Duration.ofMinutes(5), Map.of(), new byte[0], cmd.toArray(String[]::new));
            RootFilesystem.deleteTree(root.resolve(Path.of("/").relativize(state).toString()));
            if (made.exitCode() == 0 && Files.isRegularFile(archive) && Files.size(archive) > 0) {
                return true;
            }
            failure = "exit " + made.exitCode() + ": " + made.output().strip().lines().reduce((first, last) -> last).orElse("");
        } catch (IOException e) {
            failure = e.getMessage();
        }
        steps.progress("no class-data archive for the command line (" + failure + ")");
        Files.deleteIfExists(archive);
        return false;
    }

    /** Where the card keeps the catalog's CA, when {@code --catalog-trust} gave one. */
    static final Path CATALOG_TRUST = Path.of("/opt/hearth/catalog-trust.pem");

    /** The box's settings: the registry it pairs through, its overlay, the catalog its owner installs from. */
    static String applianceYaml(Options options) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("registry", Map.of("url", options.registry().toString()));
        config.put("overlay", Map.of("provider", "wireguard"));
        if (options.catalog().isPresent()) {
            Catalog c = options.catalog().get();
            Map<String, Object> source = new LinkedHashMap<>();
            source.put("name", c.name());
            source.put("url", c.url().toString());
            source.put("keys", c.keys());
            c.trust().ifPresent(t -> source.put("trust", CATALOG_TRUST.toString()));
            config.put("catalog", Map.of("sources", List.of(source)));
        }
        // Written by a YAML mapper: no value can add keys of its own.
        return "# Written by hearth image sd; the first boot copies it to /var/lib/hearth/state.\n"
                + new YAMLMapper().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).writeValueAsString(config);
    }

    /** No default password: root's must be locked (debootstrap leaves it so; checked rather than assumed). */
    private static void lockedRoot(Path root) throws IOException {
        for (String line : Files.readAllLines(root.resolve("etc/shadow"))) {
            String[] fields = line.split(":", -1);
            if (fields.length > 1 && fields[0].equals("root") && !(fields[1].startsWith("*") || fields[1].startsWith("!"))) {
                throw new ImageBuildException("the Debian layer's root account has a password; the card must have none");
            }
        }
    }

    /**
     * The boot partition: what raspi-firmware's kernel hook put in /boot/firmware (firmware, kernel,
     * initrd, device trees, config.txt and cmdline.txt), and the owner's optional Wi-Fi and SSH key.
     */
    private static void fillBoot(Path root, Path boot, Options options) throws IOException {
        Path firmware = root.resolve("boot/firmware");
        overlay(firmware, boot);
        try (Stream<Path> left = Files.list(firmware)) {
            for (Path p : left.toList()) {
                RootFilesystem.deleteTree(p);
            }
        }
        for (String needed : List.of("config.txt", "cmdline.txt", "bootcode.bin", "start.elf")) {
            if (!Files.isRegularFile(boot.resolve(needed))) {
                throw new ImageBuildException("the Debian layer's /boot/firmware has no " + needed
                        + " (raspi-firmware's kernel hook did not run?)");
            }
        }
        if (options.wifi().isPresent()) {
            Files.copy(options.wifi().get(), boot.resolve("hearth-wifi.txt"), StandardCopyOption.REPLACE_EXISTING);
        }
        if (options.sshKey().isPresent()) {
            Files.copy(options.sshKey().get(), boot.resolve("hearth-ssh.pub"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Copies a folder's files over {@code target}, replacing what is there; keeps whether a file is
     * executable, follows no links. Everything copied belongs to root and only root may write it,
     * whoever owns the checkout: root runs these scripts at boot.
     */
    static void overlay(Path source, Path target) throws IOException {
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : walk.toList()) {
                Path t = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                }
                if (!Files.isSymbolicLink(t)) {
                    rootOwned(t, Files.isDirectory(t) || Files.isExecutable(p));
                }
            }
        }
    }

    private static void rootOwned(Path file, boolean executable) throws IOException {
        Files.setAttribute(file, "unix:uid", 0);
        Files.setAttribute(file, "unix:gid", 0);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
