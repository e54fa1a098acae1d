package org.hearth.core.image;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import org.hearth.core.HearthHome;
import org.hearth.core.SystemTool;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Builds Hearth's images on the local engine from their recipes: no registry, no pull.
 * Each image carries the hash of its inputs; an image whose hash matches is not rebuilt.
 */
public final class ImageBuilder {

    /** Bumped when the builder's own steps change what an image contains. */
    private static final String BUILDER_REVISION = "hearth-image-builder/1";
    /** debootstrap of a base on a slow SD card and link is minutes; a tool stuck for this long is stuck. */
    private static final Duration BUILD_STEP_DEADLINE = Duration.ofMinutes(30);
    private static final List<String> JLINK_OPTIONS = List.of(
            "--strip-debug", "--no-header-files", "--no-man-pages", "--generate-cds-archive");

    private static final Map<String, String> DEBOOTSTRAP_PHASES = Map.of(
            "Retrieving", "downloading packages", "Extracting", "extracting",
            "Installing", "installing core packages", "Unpacking", "unpacking",
            "Configuring", "configuring", "Base", "base system installed");

    private final DockerClient docker;
    private final HearthHome home;
    private final Consumer<String> progress;
    private final Map<String, String> extraLabels;
    private final BuildTools tools;

    public ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress) {
        this(engine, home, progress, Map.of());
    }

    /** @param extraLabels added to every image built, e.g. {@link HearthLabels#TEST} for test images */
    public ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress, Map<String, String> extraLabels) {
        this(engine, home, progress, extraLabels, BuildTools.fromEnvironment());
    }

    /** @param tools where host programs are found (a test gives a PATH without some) */
    ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress, Map<String, String> extraLabels,
                 BuildTools tools) {
        this.tools = tools;
        this.docker = engine.client();
        this.home = home;
        this.progress = progress;
        this.extraLabels = Map.copyOf(extraLabels);
    }

    /** What happened to one image. */
    public record Result(String tag, String inputHash, boolean cached, Duration took, long sizeBytes) {
    }

    /** Builds Hearth's own images, those under {@code image-build/images}. */
    public List<Result> buildAll() {
        return build(ImageRecipes.loadAll(home.imageRecipes()));
    }

    /** Builds {@code recipes} in the given order (bases first; see {@link ImageRecipes#inBuildOrder}). */
    public List<Result> build(List<ImageRecipe> recipes) {
        Path lockFile = home.stateDir("images").resolve("build.lock");
        // Only the lock's own failures say "cannot lock"; each build step names itself and its recipe.
        FileChannel channel;
        FileLock lock;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ImageBuildException("cannot lock " + lockFile + ": " + describe(e), e);
        }
        try {
            lock = channel.lock();
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ImageBuildException("cannot lock " + lockFile + ": " + describe(e), e);
        }
        try {
            List<Result> results = new ArrayList<>();
            int i = 0;
            for (ImageRecipe recipe : recipes) {
                String step = "[" + (++i) + "/" + recipes.size() + "] " + recipe.name();
                results.add(buildOne(recipe, step));
            }
            return results;
        } finally {
            try {
                lock.release();
            } catch (IOException e) {
                // Closing the channel below releases it too.
            }
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // The process's exit releases the lock whatever happens here.
        }
    }

    /** What went wrong with a file, in words: Java's file exceptions carry only the path as their message. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + ": already exists";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** One build step's I/O, so that a failure can name the step. */
    private interface Stage {
        void run() throws IOException;
    }

    private static void stage(String step, ImageRecipe recipe, String doing, Stage work) {
        try {
            work.run();
        } catch (ImageBuildException e) {
            // Helpers that know no step (a missing program, a library ldd cannot find) get it here.
            if (e.getMessage() != null && e.getMessage().startsWith(step)) {
                throw e;
            }
            throw new ImageBuildException(step + ": " + e.getMessage(), e);
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            String what = e instanceof UncheckedIOException u && u.getMessage() != null
                    && !u.getMessage().equals(String.valueOf(io)) ? u.getMessage() + ": " + describe(io) : describe(io);
            throw new ImageBuildException(step + ": " + doing + " failed (recipe "
                    + recipe.dir().resolve(ImageRecipes.RECIPE_FILE) + "): " + what, e);
        }
    }

    private Result buildOne(ImageRecipe recipe, String step) {
        long start = System.nanoTime();
        String[] hashOut = new String[1];
        stage(step, recipe, "hashing its inputs", () -> hashOut[0] = inputHash(recipe));
        String hash = hashOut[0];
        Optional<InspectImageResponse> existing = inspect(recipe.tag());
        if (existing.isPresent() && hash.equals(labels(existing.get()).get(HearthLabels.INPUT_HASH))) {
            progress.accept(step + ": cached (inputs " + hash.substring(0, 12) + ")");
            return new Result(recipe.tag(), hash, true, Duration.ofNanos(System.nanoTime() - start), size(existing.get()));
        }
        Path[] workOut = new Path[1];
        stage(step, recipe, "making a work folder", () -> workOut[0] = Files.createTempDirectory(home.stateDir("images"), "build-"));
        Path work = workOut[0];
        boolean done = false;
        try {
            Path context = work.resolve("context");
            stage(step, recipe, "making the build context", () -> Files.createDirectories(context));
            if (recipe instanceof ImageRecipe.Debootstrap d) {
                Path rootfs = work.resolve("rootfs");
                stage(step, recipe, "debootstrap", () -> debootstrap(d, rootfs, step));
                stage(step, recipe, "trimming the root filesystem", () -> trimDebianRootfs(rootfs));
                stage(step, recipe, "adding the hearth user", () -> addHearthUser(rootfs));
                stage(step, recipe, "writing the Dockerfile", () -> writeDockerfile(context, List.of("CMD [\"/bin/sh\"]")));
                stage(step, recipe, "packing the root filesystem", () -> tar(rootfs, context.resolve("rootfs.tar"), step));
            } else if (recipe instanceof ImageRecipe.Jlink j) {
                Path rootfs = work.resolve("rootfs");
                stage(step, recipe, "jlink", () -> jlinkRootfs(j, rootfs, step));
                stage(step, recipe, "adding the hearth user", () -> addHearthUser(rootfs));
                stage(step, recipe, "writing the Dockerfile", () -> writeDockerfile(context, List.of(
                        "ENV JAVA_HOME=/opt/java PATH=/opt/java/bin",
                        "CMD [\"java\", \"-version\"]")));
                stage(step, recipe, "packing the root filesystem", () -> tar(rootfs, context.resolve("rootfs.tar"), step));
            } else if (recipe instanceof ImageRecipe.Dockerfile f) {
                stage(step, recipe, "copying its Dockerfile",
                        () -> Files.copy(f.dir().resolve("Dockerfile"), context.resolve("Dockerfile")));
                for (Map.Entry<String, String> file : f.files().entrySet()) {
                    stage(step, recipe, "copying files." + file.getKey(),
                            () -> copyTree(f.dir().resolve(file.getValue()).normalize(), context.resolve(file.getKey())));
                }
            }
            stage(step, recipe, "engine build", () -> engineBuild(recipe, work, context, hash, step));
            done = true;
        } finally {
            try {
                deleteTree(work);
            } catch (IOException | UncheckedIOException e) {
                // After a failure, its message matters more than a leftover folder; after success, this is the failure.
                if (done) {
                    throw new ImageBuildException(step + ": cleaning up " + work + " failed: "
                            + (e instanceof IOException io ? describe(io) : describe(((UncheckedIOException) e).getCause())), e);
                }
            }
        }
        InspectImageResponse built = inspect(recipe.tag())
                .orElseThrow(() -> new ImageBuildException(step + ": the engine reports no image after the build"));
        existing.filter(old -> !old.getId().equals(built.getId())).ifPresent(this::removeIfUnused);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        progress.accept(String.format("%s: built in %.1f s, %d MB", step, took.toMillis() / 1000.0, size(built) >> 20));
        return new Result(recipe.tag(), hash, false, took, size(built));
    }

    /** Everything the image is made from: recipe, tools, host inputs and the bases' own hashes. */
    String inputHash(ImageRecipe recipe) throws IOException {
        InputHash hash = new InputHash()
                .add("builder", BUILDER_REVISION)
                .addPath("recipe", recipe.dir().resolve(ImageRecipes.RECIPE_FILE));
        if (recipe instanceof ImageRecipe.Debootstrap d) {
            AptSource source = AptSource.forSuite(Path.of("/etc/apt"), d.suite());
            hash.add("mirror", source.uri()).add("arch", hostArchitecture(tools));
        } else if (recipe instanceof ImageRecipe.Jlink) {
            Path javaHome = jdkHome();
            hash.addPath("jdk-release", javaHome.resolve("release"))
                    .add("jdk-version", System.getProperty("java.vm.version"))
                    .add("jlink-options", JLINK_OPTIONS);
            try {
                for (Path lib : SharedLibraries.neededBy(javaHome.resolve("lib"), tools)) {
                    hash.addPath("lib:" + lib, lib);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ImageBuildException("interrupted while hashing " + recipe.name());
            }
        } else if (recipe instanceof ImageRecipe.Dockerfile f) {
            hash.addPath("Dockerfile", f.dir().resolve("Dockerfile"));
            for (Map.Entry<String, String> file : new TreeMap<>(f.files()).entrySet()) {
                Path source = f.dir().resolve(file.getValue()).normalize();
                if (!Files.exists(source)) {
                    throw new ImageBuildException(f.dir().resolve(ImageRecipes.RECIPE_FILE) + ": files."
                            + file.getKey() + ": " + source + " does not exist (build the module first)");
                }
                hash.addPath("file:" + file.getKey(), source);
            }
            for (String base : f.from()) {
                String baseHash = inspect(base + ":latest").map(i -> labels(i).get(HearthLabels.INPUT_HASH))
                        .orElseThrow(() -> new ImageBuildException(f.name() + ": base image " + base
                                + " is not built here (run: hearth images build)"));
                hash.add("base:" + base, baseHash);
            }
        }
        return hash.hex();
    }

    private void debootstrap(ImageRecipe.Debootstrap d, Path rootfs, String step) throws IOException {
        AptSource source = AptSource.forSuite(Path.of("/etc/apt"), d.suite());
        progress.accept(step + ": debootstrap " + d.suite() + " (" + d.variant() + ") from " + source.uri());
        List<String> cmd = new ArrayList<>(List.of("debootstrap", "--variant=" + d.variant(),
                "--cache-dir=" + home.stateDir("cache/debootstrap")));
        if (!d.include().isEmpty()) {
            cmd.add("--include=" + String.join(",", d.include()));
        }
        source.keyring().ifPresent(k -> cmd.add("--keyring=" + k));
        cmd.addAll(List.of(d.suite(), rootfs.toString(), source.uri()));
        // debootstrap prints a line per package and step; show each phase once.
        try {
            run(cmd, step, line -> line.startsWith("I: ")
                    ? Optional.ofNullable(DEBOOTSTRAP_PHASES.get(line.substring(3).split(" ")[0]))
                    : Optional.empty());
        } catch (ImageBuildException e) {
            // The work folder is deleted after a failure; keep debootstrap's detailed log where the user can read it.
            Path detail = rootfs.resolve("debootstrap/debootstrap.log");
            if (Files.isRegularFile(detail)) {
                Path kept = home.stateDir("logs").resolve("debootstrap-" + d.name().replace('/', '-') + ".log");
                Files.copy(detail, kept, StandardCopyOption.REPLACE_EXISTING);
                throw new ImageBuildException(e.getMessage() + "\n  debootstrap's own log: " + kept, e);
            }
            throw e;
        }
    }

    /** Drops what a service never reads (docs, man pages, apt caches) to keep images small. */
    private static void trimDebianRootfs(Path rootfs) throws IOException {
        for (String dir : List.of("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
                "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf")) {
            Path p = rootfs.resolve(dir);
            if (Files.isDirectory(p)) {
                try (Stream<Path> children = Files.list(p)) {
                    for (Path child : children.toList()) {
                        deleteTree(child);
                    }
                }
            }
        }
    }

    private void jlinkRootfs(ImageRecipe.Jlink j, Path rootfs, String step) throws IOException {
        Path javaHome = jdkHome();
        Path runtime = rootfs.resolve("opt/java");
        Files.createDirectories(runtime.getParent());
        progress.accept(step + ": jlink " + String.join(",", j.modules()) + " from " + javaHome);
        List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin/jlink").toString(),
                "--add-modules", String.join(",", j.modules()), "--output", runtime.toString()));
        cmd.addAll(JLINK_OPTIONS);
        run(cmd, step, line -> Optional.empty());
        try {
            for (Path lib : SharedLibraries.neededBy(runtime, tools)) {
                Path target = rootfs.resolve(lib.toString().substring(1));
                Files.createDirectories(target.getParent());
                Files.copy(lib.toRealPath(), target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageBuildException(step + ": interrupted while resolving libraries");
        }
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/nonexistent\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\n");
        Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
        Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    /** The unprivileged user every image runs as. */
    private static void addHearthUser(Path rootfs) throws IOException {
        Files.writeString(rootfs.resolve("etc/passwd"),
                "hearth:x:" + ImageRecipe.UID + ":" + ImageRecipe.GID + ":Hearth service:/nonexistent:/usr/sbin/nologin\n",
                StandardOpenOption.APPEND);
        Files.writeString(rootfs.resolve("etc/group"), "hearth:x:" + ImageRecipe.GID + ":\n", StandardOpenOption.APPEND);
    }

    private static void writeDockerfile(Path context, List<String> extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of("FROM scratch", "ADD rootfs.tar /"));
        lines.addAll(extra);
        lines.add("USER " + ImageRecipe.USER);
        Files.write(context.resolve("Dockerfile"), lines);
    }

    /** System tar keeps owners, modes, links and device nodes exactly; the engine unpacks it with ADD. */
    private void tar(Path rootfs, Path archive, String step) throws IOException {
        run(List.of("tar", "--numeric-owner", "-C", rootfs.toString(), "-cf", archive.toString(), "."),
                step, line -> Optional.empty());
    }

    private void engineBuild(ImageRecipe recipe, Path work, Path context, String hash, String step) throws IOException {
        progress.accept(step + ": engine build");
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(HearthLabels.MANAGED, "true");
        labels.put(HearthLabels.APP, "hearth");
        labels.put(HearthLabels.ROLE, "image");
        labels.put(HearthLabels.IMAGE, recipe.name());
        labels.put(HearthLabels.INPUT_HASH, hash);
        labels.putAll(extraLabels);
        List<String> tail = new ArrayList<>();
        try (ContextTar tar = ContextTar.start(tools.locate("tar"), context, work.resolve("context-tar.err"))) {
            RuntimeException failed = null;
            try {
                build(recipe, tar.stream(), labels, step, tail);
            } catch (RuntimeException e) {
                failed = e;
            }
            try {
                tar.finish(failed == null);
            } catch (ImageBuildException e) {
                // tar's own error is the cause; the engine's, if any, is what followed from it.
                throw new ImageBuildException(step + ": " + e.getMessage()
                        + (failed == null ? "" : "\n  the engine then said: " + failed.getMessage()), e);
            }
            if (failed != null) {
                throw new ImageBuildException(step + ": engine build failed: " + failed.getMessage()
                        + lastLines(tail), failed);
            }
        }
    }

    private void build(ImageRecipe recipe, InputStream stream, Map<String, String> labels, String step,
                       List<String> tail) {
        {
            docker.buildImageCmd()
                    .withTarInputStream(stream)
                    .withTags(Set.of(recipe.tag()))
                    .withLabels(labels)
                    .withPull(false)
                    .withNetworkMode("none")
                    .exec(new BuildImageResultCallback() {
                        @Override
                        public void onNext(BuildResponseItem item) {
                            if (item.getStream() != null && item.getStream().startsWith("Step ")) {
                                progress.accept(step + ":   " + item.getStream().strip());
                            }
                            if (item.getStream() != null) {
                                tail.add(item.getStream().strip());
                            }
                            super.onNext(item);
                        }
                    })
                    .awaitImageId();
        }
    }

    private static String lastLines(List<String> lines) {
        int from = Math.max(0, lines.size() - 10);
        return lines.isEmpty() ? "" : "\n  " + String.join("\n  ", lines.subList(from, lines.size()));
    }

    /** Runs a build tool; its output goes to a log under the state folder and, filtered, to progress. */
    private void run(List<String> cmd, String step, Function<String, Optional<String>> phase)
            throws IOException {
        Path log = home.stateDir("logs").resolve("image-build.log");
        List<String> located = new ArrayList<>(cmd);
        located.set(0, locate(cmd.get(0), step));
        Deque<String> tail = new ArrayDeque<>();
        Set<String> shown = new HashSet<>();
        int code;
        try (var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write("$ " + String.join(" ", cmd) + "\n");
            code = SystemTool.stream(BUILD_STEP_DEADLINE, located, line -> {
                try {
                    out.write(line + "\n");
                } catch (IOException e) {
                    // The log is only a copy: the tail below still tells what failed.
                }
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > 15) {
                        tail.removeFirst();
                    }
                }
                phase.apply(line).filter(shown::add).ifPresent(name -> progress.accept(step + ":   " + name + " ..."));
            });
        }
        if (code != 0) {
            synchronized (tail) {
                throw new ImageBuildException(step + ": " + cmd.get(0) + " exited with " + code
                        + " (full log: " + log + ")" + lastLines(List.copyOf(tail)));
            }
        }
    }

    private String locate(String program, String step) {
        try {
            return tools.locate(program);
        } catch (ImageBuildException e) {
            throw new ImageBuildException(step + ": " + e.getMessage(), e);
        }
    }

    /**
     * The image a rebuild replaced, now untagged: removed unless a container still uses it (that
     * container keeps it until it is recreated), so rebuilds do not fill a small disk.
     */
    private void removeIfUnused(InspectImageResponse old) {
        try {
            docker.removeImageCmd(old.getId()).withForce(false).withNoPrune(false).exec();
        } catch (NotFoundException | ConflictException e) {
            // Gone already, or still in use by a container: the engine keeps it.
        }
    }

    private Optional<InspectImageResponse> inspect(String tag) {
        try {
            return Optional.of(docker.inspectImageCmd(tag).exec());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    private static Map<String, String> labels(InspectImageResponse image) {
        Map<String, String> labels = image.getConfig() == null ? null : image.getConfig().getLabels();
        return labels == null ? Map.of() : labels;
    }

    private static long size(InspectImageResponse image) {
        return image.getSize() == null ? 0 : image.getSize();
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

    private static String hostArchitecture(BuildTools tools) throws IOException {
        SystemTool.Result r = SystemTool.attempt(Duration.ofSeconds(30), Map.of(), new byte[0],
                tools.locate("dpkg"), "--print-architecture");
        if (r.exitCode() != 0) {
            throw new ImageBuildException("dpkg --print-architecture exited with " + r.exitCode() + ": " + r.firstLine());
        }
        String arch = r.output().strip();
        return arch.isEmpty() ? System.getProperty("os.arch") : arch;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        if (Files.isDirectory(source)) {
            try (Stream<Path> walk = Files.walk(source)) {
                for (Path p : walk.toList()) {
                    Path t = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        } else {
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        unmountBelow(root);
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A failed debootstrap can leave /proc or /sys mounted in its target: never walk into those. */
    private static void unmountBelow(Path root) throws IOException {
        String prefix = root.toAbsolutePath().normalize() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].startsWith(prefix)) {
                mounts.add(fields[1]);
            }
        }
        mounts.sort(Comparator.reverseOrder());
        for (String mount : mounts) {
            // Lazily, and whatever it says: what stays mounted is skipped by the walk that follows.
            SystemTool.attempt(new byte[0], "umount", "-l", mount);
        }
    }
}
