package org.hearth.core.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageRecipesTest {

    @TempDir
    Path root;

    @Test
    void shippedRecipesLoadWithBasesFirst() {
        Path shipped = Path.of(System.getProperty("hearth.home"), "image-build", "images");

        List<ImageRecipe> recipes = ImageRecipes.loadAll(shipped);

        assertThat(recipes).extracting(ImageRecipe::name).contains("hearth/debian-base", "hearth/java-base");
        assertThat(recipes).allSatisfy(r -> assertThat(r.dir()).isAbsolute());
    }

    @Test
    void ordersDockerfileImagesAfterTheirBases() throws IOException {
        recipe("zz-base", "name: hearth/zz-base\nkind: jlink\nmodules: [java.base]\n");
        recipe("aa-app", "name: hearth/aa-app\nkind: dockerfile\nfrom: [hearth/zz-base]\n");
        Files.writeString(root.resolve("aa-app/Dockerfile"), "FROM hearth/zz-base\n");

        assertThat(ImageRecipes.loadAll(root)).extracting(ImageRecipe::name)
                .containsExactly("hearth/zz-base", "hearth/aa-app");
    }

    @Test
    void unknownKeyIsReportedWithFileAndLine() throws IOException {
        Path file = recipe("bad", "name: hearth/bad\nkind: debootstrap\nsuite: bookworm\nvariant: minbase\nmirror: x\n");

        assertThatThrownBy(() -> ImageRecipes.load(file))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageStartingWith(file + ":5: ")
                .hasMessageContaining("mirror");
    }

    @Test
    void unknownKindIsReported() throws IOException {
        Path file = recipe("bad", "name: hearth/bad\nkind: pull\n");

        assertThatThrownBy(() -> ImageRecipes.load(file))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageStartingWith(file + ":")
                .hasMessageContaining("pull");
    }

    @Test
    void registryImagesAreRefusedAsBases() throws IOException {
        Path file = recipe("app", "name: hearth/app\nkind: dockerfile\nfrom: [debian:bookworm]\n");
        Files.writeString(root.resolve("app/Dockerfile"), "FROM debian:bookworm\n");

        assertThatThrownBy(() -> ImageRecipes.load(file))
                .hasMessage(file + ": from: \"debian:bookworm\" is not a Hearth image: images are built here, never pulled");
    }

    @Test
    void badNameAndMissingFieldsAreNamed() throws IOException {
        Path badName = recipe("one", "name: Hearth/One\nkind: jlink\nmodules: [java.base]\n");
        Path noSuite = recipe("two", "name: hearth/two\nkind: debootstrap\nvariant: minbase\n");

        assertThatThrownBy(() -> ImageRecipes.load(badName)).hasMessageContaining(badName + ": name: \"Hearth/One\"");
        assertThatThrownBy(() -> ImageRecipes.load(noSuite)).hasMessage(noSuite + ": suite: required");
    }

    @Test
    void missingBaseAndCyclesAreRefused() throws IOException {
        recipe("a", "name: hearth/a\nkind: dockerfile\nfrom: [hearth/b]\n");
        Files.writeString(root.resolve("a/Dockerfile"), "FROM hearth/b\n");
        assertThatThrownBy(() -> ImageRecipes.loadAll(root)).hasMessageContaining("from: hearth/b has no recipe");

        recipe("b", "name: hearth/b\nkind: dockerfile\nfrom: [hearth/a]\n");
        Files.writeString(root.resolve("b/Dockerfile"), "FROM hearth/a\n");
        assertThatThrownBy(() -> ImageRecipes.loadAll(root)).hasMessageContaining("cycle");
    }

    private Path recipe(String dir, String yaml) throws IOException {
        Path file = Files.createDirectories(root.resolve(dir)).resolve(ImageRecipes.RECIPE_FILE);
        Files.writeString(file, yaml);
        return file;
    }
}
