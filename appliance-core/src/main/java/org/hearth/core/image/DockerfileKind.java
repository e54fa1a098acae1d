package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/** A Dockerfile in the recipe folder with the files it names, built on other Hearth images only. */
final class DockerfileKind implements RecipeKind {

    private final ImageRecipe.Dockerfile recipe;
    /** A base image's input hash, if it is built here. */
    private final Function<String, Optional<String>> baseInputHash;

    DockerfileKind(ImageRecipe.Dockerfile recipe, Function<String, Optional<String>> baseInputHash) {
        this.recipe = recipe;
        this.baseInputHash = baseInputHash;
    }

    @Override
    public void addInputs(InputHash hash) throws IOException {
        hash.addPath("Dockerfile", recipe.dir().resolve("Dockerfile"));
        for (Map.Entry<String, String> file : new TreeMap<>(recipe.files()).entrySet()) {
            Path source = recipe.dir().resolve(file.getValue()).normalize();
            if (!Files.exists(source)) {
                throw new ImageBuildException(recipe.dir().resolve(ImageRecipes.RECIPE_FILE) + ": files."
                        + file.getKey() + ": " + source + " does not exist (build the module first)");
            }
            hash.addPath("file:" + file.getKey(), source);
        }
        // A rebuilt base means a rebuild of everything on it.
        for (String base : recipe.from()) {
            hash.add("base:" + base, baseInputHash.apply(base + ":latest")
                    .orElseThrow(() -> new ImageBuildException(recipe.name() + ": base image " + base
                            + " is not built here (run: hearth images build)")));
        }
    }

    @Override
    public void prepareContext(Path work, Path context, BuildSteps steps) {
        steps.stage("copying its Dockerfile", () -> Files.copy(recipe.dir().resolve("Dockerfile"), context.resolve("Dockerfile")));
        for (Map.Entry<String, String> file : recipe.files().entrySet()) {
            steps.stage("copying files." + file.getKey(),
                    () -> RootFilesystem.copyTree(recipe.dir().resolve(file.getValue()).normalize(), context.resolve(file.getKey())));
        }
    }
}
