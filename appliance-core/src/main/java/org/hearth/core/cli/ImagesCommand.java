package org.hearth.core.cli;

import com.github.dockerjava.api.model.Image;
import org.hearth.core.image.ImageBuilder;
import org.hearth.core.image.ImagePlatform;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.image.ImageRecipes;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "images", mixinStandardHelpOptions = true,
        description = "Build and list Hearth's container images (built here, never pulled).",
        subcommands = {ImagesCommand.Build.class, ImagesCommand.ListImages.class})
final class ImagesCommand {

    @ParentCommand
    HearthCommand root;

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Build every image from image-build/images; unchanged inputs are not rebuilt.")
    static final class Build implements Callable<Integer> {
        @ParentCommand
        ImagesCommand images;

        @Option(names = "--recipes", paramLabel = "DIR",
                description = "Also build the recipes in DIR (e.g. tests/images), on top of Hearth's own images.")
        Path extra;

        @Option(names = "--arch", paramLabel = "ARCH",
                description = "Build for ARCH (amd64, arm64) rather than this machine's architecture: tagged ARCH, "
                        + "not latest, for the catalog (hearth catalog build --arch); its programs run under qemu-user.")
        String arch;

        @Override
        public Integer call() throws Exception {
            ImagePlatform platform = arch == null ? ImagePlatform.host() : ImagePlatform.named(arch);
            if (platform.foreign()) {
                // qemu-user-static and binfmt-support: another architecture's programs run under emulation.
                DemoCommand.script(images.root.home(), "install-packages", "image");
            }
            try (Engine engine = Engine.connect()) {
                engine.version();
                buildAll(engine, images.root, platform);
                if (extra != null) {
                    List<ImageRecipe> hearths = ImageRecipes.loadAll(images.root.home().imageRecipes());
                    new ImageBuilder(engine, images.root.home(), System.out::println, Map.of(), platform)
                            .build(ImageRecipes.loadAll(extra, hearths));
                }
            }
            return 0;
        }
    }

    static List<ImageBuilder.Result> buildAll(Engine engine, HearthCommand root) {
        return buildAll(engine, root, ImagePlatform.host());
    }

    static List<ImageBuilder.Result> buildAll(Engine engine, HearthCommand root, ImagePlatform platform) {
        long start = System.nanoTime();
        List<ImageBuilder.Result> results = new ImageBuilder(engine, root.home(), System.out::println, Map.of(), platform)
                .buildAll();
        long built = results.stream().filter(r -> !r.cached()).count();
        System.out.printf("images: %d built, %d cached, %.1f s%n", built, results.size() - built,
                (System.nanoTime() - start) / 1e9);
        return results;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the images Hearth built.")
    static final class ListImages implements Callable<Integer> {
        @ParentCommand
        ImagesCommand images;

        @Override
        public Integer call() {
            try (Engine engine = Engine.connect()) {
                List<Image> list = engine.client().listImagesCmd()
                        .withLabelFilter(Map.of(HearthLabels.MANAGED, "true")).exec();
                list.forEach(image -> System.out.println(line(image)));
            }
            return 0;
        }
    }

    /** One image's line; an image built before the input-hash label existed shows "unknown". */
    static String line(Image image) {
        Map<String, String> labels = image.getLabels() == null ? Map.of() : image.getLabels();
        String hash = labels.get(HearthLabels.INPUT_HASH);
        return String.format("%-32s %5d MB  inputs %s",
                image.getRepoTags() == null || image.getRepoTags().length == 0 ? image.getId() : String.join(",", image.getRepoTags()),
                image.getSize() == null ? 0 : image.getSize() >> 20,
                hash == null || hash.isBlank() ? "unknown" : hash.substring(0, Math.min(12, hash.length())));
    }
}
