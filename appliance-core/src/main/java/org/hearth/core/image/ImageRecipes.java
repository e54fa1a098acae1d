package org.hearth.core.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.hearth.core.yaml.YamlLines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Loads image recipes from their folders and orders them so every base is built before its users. */
public final class ImageRecipes {

    public static final String RECIPE_FILE = "image.yaml";
    private static final Pattern NAME = Pattern.compile("hearth(-[a-z]+)?/[a-z0-9][a-z0-9-]*");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ImageRecipes() {
    }

    /** Every recipe under {@code root} (one folder each), bases first. */
    public static List<ImageRecipe> loadAll(Path root) {
        return loadAll(root, List.of());
    }

    /** Every recipe under {@code root}, bases first; bases may also be among {@code available}. */
    public static List<ImageRecipe> loadAll(Path root, List<ImageRecipe> available) {
        List<Path> files;
        try (Stream<Path> dirs = Files.list(root)) {
            files = dirs.map(d -> d.resolve(RECIPE_FILE)).filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new ImageBuildException("cannot list image recipes in " + root + ": " + e.getMessage(), e);
        }
        List<ImageRecipe> recipes = new ArrayList<>();
        for (Path file : files) {
            recipes.add(load(file));
        }
        return inBuildOrder(recipes, available);
    }

    /** One recipe file, checked. Errors name the file, line and field. */
    public static ImageRecipe load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ImageBuildException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ImageRecipe recipe;
        try {
            recipe = YAML.readValue(text, ImageRecipe.class);
        } catch (JsonProcessingException e) {
            throw new ImageBuildException(YamlLines.describe(file, text, e));
        }
        recipe = recipe.withDir(file.getParent().toAbsolutePath().normalize());
        check(file, recipe);
        return recipe;
    }

    private static void check(Path file, ImageRecipe recipe) {
        if (recipe.name() == null || !NAME.matcher(recipe.name()).matches()) {
            throw new ImageBuildException(file + ": name: \"" + recipe.name()
                    + "\" must look like hearth/NAME (lower case, digits, dashes)");
        }
        if (recipe instanceof ImageRecipe.Debootstrap d) {
            require(file, "suite", d.suite());
            require(file, "variant", d.variant());
        } else if (recipe instanceof ImageRecipe.Jlink j) {
            if (j.modules().isEmpty()) {
                throw new ImageBuildException(file + ": modules: list at least java.base");
            }
        } else if (recipe instanceof ImageRecipe.Dockerfile f) {
            if (!Files.isRegularFile(f.dir().resolve("Dockerfile"))) {
                throw new ImageBuildException(file + ": kind dockerfile needs a Dockerfile beside it");
            }
            for (String base : f.from()) {
                if (!NAME.matcher(base).matches()) {
                    throw new ImageBuildException(file + ": from: \"" + base
                            + "\" is not a Hearth image: images are built here, never pulled");
                }
            }
        }
    }

    private static void require(Path file, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new ImageBuildException(file + ": " + field + ": required");
        }
    }

    /**
     * Orders {@code recipes} so each comes after its bases. Bases may also be among
     * {@code available} (recipes built elsewhere, e.g. the platform images for a test image).
     */
    public static List<ImageRecipe> inBuildOrder(List<ImageRecipe> recipes, List<ImageRecipe> available) {
        Map<String, ImageRecipe> byName = new LinkedHashMap<>();
        for (ImageRecipe r : recipes) {
            if (byName.put(r.name(), r) != null) {
                throw new ImageBuildException("two recipes are named " + r.name());
            }
        }
        Set<String> external = new HashSet<>();
        available.forEach(r -> external.add(r.name()));
        List<ImageRecipe> ordered = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (ImageRecipe r : byName.values()) {
            visit(r, byName, external, done, new HashSet<>(), ordered);
        }
        return ordered;
    }

    private static void visit(ImageRecipe r, Map<String, ImageRecipe> byName, Set<String> external,
                              Set<String> done, Set<String> path, List<ImageRecipe> ordered) {
        if (done.contains(r.name())) {
            return;
        }
        if (!path.add(r.name())) {
            throw new ImageBuildException(r.dir().resolve(RECIPE_FILE) + ": from: " + r.name()
                    + " is its own base (cycle through " + path + ")");
        }
        for (String base : r.bases()) {
            ImageRecipe b = byName.get(base);
            if (b != null) {
                visit(b, byName, external, done, path, ordered);
            } else if (!external.contains(base)) {
                throw new ImageBuildException(r.dir().resolve(RECIPE_FILE) + ": from: " + base
                        + " has no recipe");
            }
        }
        path.remove(r.name());
        done.add(r.name());
        ordered.add(r);
    }
}
