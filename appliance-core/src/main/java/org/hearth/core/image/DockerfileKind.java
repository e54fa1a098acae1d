package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile in the recipe folder with the files it names, built on other Hearth images only. For
 * another architecture its {@code FROM hearth/...:latest} lines name that architecture's bases, and
 * its RUN steps run under qemu-user (binfmt_misc).
 */
final class DockerfileKind implements RecipeKind {

    /** How a Dockerfile names a Hearth base: manifests' tag, which is this machine's architecture. */
    private static final Pattern FROM = Pattern.compile("(?m)^FROM[ \\t]+(\\S+)(.*)$");

    private final ImageRecipe.Dockerfile recipe;
    private final ImagePlatform platform;
    /** A base image's input hash, if it is built here. */
    private final Function<String, Optional<String>> baseInputHash;

    DockerfileKind(ImageRecipe.Dockerfile recipe, ImagePlatform platform, Function<String, Optional<String>> baseInputHash) {
        this.recipe = recipe;
        this.platform = platform;
        this.baseInputHash = baseInputHash;
    }

    @Override
    public void addInputs(InputHash hash, BuildSteps steps) throws IOException {
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
            hash.add("base:" + base, baseInputHash.apply(base + ":" + platform.tag())
                    .orElseThrow(() -> new ImageBuildException(recipe.name() + ": base image " + base
                            + " is not built here for " + platform.arch() + " (run: hearth images build"
                            + (platform.foreign() ? " --arch " + platform.arch() : "") + ")")));
        }
    }

    @Override
    public void prepareContext(Path work, Path context, BuildSteps steps) {
        steps.stage("copying its Dockerfile", () -> Files.writeString(context.resolve("Dockerfile"),
                forPlatform(Files.readString(recipe.dir().resolve("Dockerfile")))));
        for (Map.Entry<String, String> file : recipe.files().entrySet()) {
            steps.stage("copying files." + file.getKey(),
                    () -> RootFilesystem.copyTree(recipe.dir().resolve(file.getValue()).normalize(), context.resolve(file.getKey())));
        }
    }

    /** The Dockerfile with each {@code FROM NAME:latest} naming this platform's tag of the base. */
    String forPlatform(String dockerfile) {
        Matcher m = FROM.matcher(dockerfile);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String base = m.group(1).endsWith(":latest") ? m.group(1).substring(0, m.group(1).length() - ":latest".length()) : "";
            if (!recipe.from().contains(base) || !m.group(2).isBlank()) {
                throw new ImageBuildException(recipe.dir().resolve("Dockerfile") + ": " + m.group().strip()
                        + ": a FROM line names one of the recipe's from (" + String.join(", ", recipe.from())
                        + ") as NAME:latest, and nothing else");
            }
            m.appendReplacement(out, Matcher.quoteReplacement("FROM " + base + ":" + platform.tag()));
        }
        m.appendTail(out);
        return out.toString();
    }
}
