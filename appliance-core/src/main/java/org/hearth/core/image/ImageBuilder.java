package org.hearth.core.image;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageCmd;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import org.hearth.core.HearthHome;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Builds Hearth's images on the local engine from their recipes: no registry, no pull.
 * Each image carries the hash of its inputs; an image whose hash matches is not rebuilt.
 */
public final class ImageBuilder {

    /** Bumped when the builder's own steps change what an image contains. */
    private static final String BUILDER_REVISION = "hearth-image-builder/1";

    private final DockerClient docker;
    private final HearthHome home;
    private final Consumer<String> progress;
    private final Map<String, String> extraLabels;
    private final BuildTools tools;
    private final ImagePlatform platform;

    public ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress) {
        this(engine, home, progress, Map.of());
    }

    /** @param extraLabels added to every image built, e.g. {@link HearthLabels#TEST} for test images */
    public ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress, Map<String, String> extraLabels) {
        this(engine, home, progress, extraLabels, ImagePlatform.host());
    }

    /** @param platform the architecture to build for: another than this machine's is tagged with its name */
    public ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress, Map<String, String> extraLabels,
                        ImagePlatform platform) {
        this(engine, home, progress, extraLabels, BuildTools.fromEnvironment(), platform);
    }

    /** @param tools where host programs are found (a test gives a PATH without some) */
    ImageBuilder(Engine engine, HearthHome home, Consumer<String> progress, Map<String, String> extraLabels,
                 BuildTools tools, ImagePlatform platform) {
        this.tools = tools;
        this.platform = platform;
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
        // One build per architecture at a time in this home. This machine's images and another
        // architecture's share no tag, base or work folder, so a check of amd64 images need not wait
        // out minutes of arm64 builds under emulation (CI: EphemeralIsolationTest waited ten).
        Path lockFile = home.stateDir("images").resolve("build-" + platform.arch() + ".lock");
        // Only the lock's own failures say "cannot lock"; each build step names itself and its recipe.
        FileChannel channel;
        FileLock lock;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ImageBuildException("cannot lock " + lockFile + ": " + BuildSteps.describe(e), e);
        }
        try {
            lock = channel.lock();
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ImageBuildException("cannot lock " + lockFile + ": " + BuildSteps.describe(e), e);
        }
        try {
            if (!platform.foreign()) {
                return buildEach(recipes);
            }
            BuildSteps steps = new BuildSteps(home, tools, progress, "[" + platform.arch() + "]", home.imageRecipes());
            steps.stage("checking that this machine runs " + platform.arch() + " programs",
                    () -> Binfmt.ensure(platform.arch(), steps));
            // Another architecture's builds share the machine's JDK root (JdkRoot): one checkout at a time.
            Path machineLock = HearthHome.cacheDir("locks").resolve("images-" + platform.arch() + ".lock");
            try (FileChannel other = FileChannel.open(machineLock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock held = other.lock()) {
                return buildEach(recipes);
            } catch (IOException e) {
                throw new ImageBuildException("cannot lock " + machineLock + ": " + BuildSteps.describe(e), e);
            }
        } finally {
            try {
                lock.release();
            } catch (IOException e) {
                // Closing the channel below releases it too.
            }
            closeQuietly(channel);
        }
    }

    private List<Result> buildEach(List<ImageRecipe> recipes) {
        List<Result> results = new ArrayList<>();
        int i = 0;
        for (ImageRecipe recipe : recipes) {
            String step = "[" + (++i) + "/" + recipes.size() + "] " + recipe.name();
            results.add(buildOne(recipe, step));
        }
        return results;
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // The process's exit releases the lock whatever happens here.
        }
    }

    private Result buildOne(ImageRecipe recipe, String step) {
        long start = System.nanoTime();
        BuildSteps steps = new BuildSteps(home, tools, progress, step, recipe.dir().resolve(ImageRecipes.RECIPE_FILE));
        String[] hashOut = new String[1];
        steps.stage("hashing its inputs", () -> hashOut[0] = inputHash(recipe, steps));
        String hash = hashOut[0];
        Optional<InspectImageResponse> existing = inspect(recipe.tag(platform));
        if (existing.isPresent() && hash.equals(labels(existing.get()).get(HearthLabels.INPUT_HASH))) {
            progress.accept(step + ": cached (inputs " + hash.substring(0, 12) + ")");
            return new Result(recipe.tag(platform), hash, true, Duration.ofNanos(System.nanoTime() - start), size(existing.get()));
        }
        Path[] workOut = new Path[1];
        steps.stage("making a work folder", () -> workOut[0] = Files.createTempDirectory(home.stateDir("images"), "build-"));
        Path work = workOut[0];
        boolean done = false;
        try {
            Path context = work.resolve("context");
            steps.stage("making the build context", () -> Files.createDirectories(context));
            kindOf(recipe).prepareContext(work, context, steps);
            steps.stage("engine build", () -> engineBuild(recipe, work, context, hash, step));
            done = true;
        } finally {
            try {
                RootFilesystem.deleteTree(work);
            } catch (IOException | UncheckedIOException e) {
                // After a failure, its message matters more than a leftover folder; after success, this is the failure.
                if (done) {
                    throw new ImageBuildException(step + ": cleaning up " + work + " failed: "
                            + (e instanceof IOException io ? BuildSteps.describe(io) : BuildSteps.describe(((UncheckedIOException) e).getCause())), e);
                }
            }
        }
        InspectImageResponse built = inspect(recipe.tag(platform))
                .orElseThrow(() -> new ImageBuildException(step + ": the engine reports no image after the build"));
        existing.filter(old -> !old.getId().equals(built.getId())).ifPresent(this::removeIfUnused);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        progress.accept(String.format("%s: built in %.1f s, %d MB", step, took.toMillis() / 1000.0, size(built) >> 20));
        return new Result(recipe.tag(platform), hash, false, took, size(built));
    }

    /** Everything the image is made from: recipe, tools, host inputs and the bases' own hashes. */
    String inputHash(ImageRecipe recipe, BuildSteps steps) throws IOException {
        InputHash hash = new InputHash()
                .add("builder", BUILDER_REVISION)
                .addPath("recipe", recipe.dir().resolve(ImageRecipes.RECIPE_FILE));
        kindOf(recipe).addInputs(hash, steps);
        return hash.hex();
    }

    private RecipeKind kindOf(ImageRecipe recipe) {
        return recipe.buildWith(platform, tag -> inspect(tag).map(i -> labels(i).get(HearthLabels.INPUT_HASH)));
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
                        + BuildSteps.lastLines(tail), failed);
            }
        }
    }

    private void build(ImageRecipe recipe, InputStream stream, Map<String, String> labels, String step,
                       List<String> tail) {
        BuildImageCmd cmd = docker.buildImageCmd();
        if (platform.foreign()) {
            cmd.withPlatform(platform.enginePlatform());
        }
        cmd.withTarInputStream(stream)
                .withTags(Set.of(recipe.tag(platform)))
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
}
