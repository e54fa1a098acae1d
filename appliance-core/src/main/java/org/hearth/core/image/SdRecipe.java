package org.hearth.core.image;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.hearth.core.yaml.YamlLines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What the SD card image's Debian layer is made of ({@code image-build/sd/pi3.yaml}): the suite,
 * the architecture, the archive's components, the packages and the modules its initramfs holds.
 *
 * @param file the recipe's own path; filled in by {@link #load}, not the YAML
 */
record SdRecipe(String suite, String arch, List<String> components, List<String> packages,
                @JsonProperty("initramfs-modules") List<String> initramfsModules, Path file) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final Pattern WORD = Pattern.compile("[a-z0-9][a-z0-9.+_-]*");

    /** The recipe file, checked: errors name the file, its line and the field. */
    static SdRecipe load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ImageBuildException("cannot read " + file + ": " + BuildSteps.describe(e), e);
        }
        SdRecipe recipe;
        try {
            recipe = YAML.readValue(text, SdRecipe.class);
        } catch (JsonProcessingException e) {
            throw new ImageBuildException(YamlLines.describe(file, text, e));
        }
        recipe = new SdRecipe(recipe.suite, recipe.arch, recipe.components, recipe.packages, recipe.initramfsModules,
                file.toAbsolutePath().normalize());
        recipe.check();
        return recipe;
    }

    private void check() {
        word("suite", suite);
        word("arch", arch);
        words("components", components);
        words("packages", packages);
        words("initramfs-modules", initramfsModules);
        if (!packages.contains("linux-image-" + arch) || !packages.contains("raspi-firmware")) {
            throw new ImageBuildException(file + ": packages: a bootable card needs linux-image-" + arch
                    + " and raspi-firmware");
        }
    }

    private void word(String field, String value) {
        if (value == null || !WORD.matcher(value).matches()) {
            throw new ImageBuildException(file + ": " + field + ": " + (value == null ? "missing" : "\"" + value
                    + "\" is not a Debian name (lower case letters, digits, . + _ -)"));
        }
    }

    private void words(String field, List<String> values) {
        if (values == null || values.isEmpty()) {
            throw new ImageBuildException(file + ": " + field + ": missing (a list of names)");
        }
        for (int i = 0; i < values.size(); i++) {
            word(field + "[" + i + "]", values.get(i));
        }
    }
}
