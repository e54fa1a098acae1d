package org.hearth.core.image;

import org.hearth.core.HearthHome;
import org.hearth.core.runtime.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a failed image build says, on real files and real processes. None of these reaches the
 * engine: the engine handle points at a socket that does not exist, so a test that talked to it
 * would fail with that instead.
 */
class ImageBuilderErrorsTest {

    @TempDir
    Path dir;

    private ImageBuilder builder(BuildTools tools) {
        HearthHome home = new HearthHome(dir.resolve("home"), dir.resolve("state"));
        return new ImageBuilder(Engine.connect("unix://" + dir.resolve("no-engine.sock")), home, line -> { },
                Map.of(), tools, ImagePlatform.host(tools));
    }

    private ImageRecipe.Debootstrap debianRecipe() throws Exception {
        Path recipeDir = Files.createDirectories(dir.resolve("recipes/test-base"));
        Files.writeString(recipeDir.resolve(ImageRecipes.RECIPE_FILE), "kind: debootstrap\n");
        return new ImageRecipe.Debootstrap("test-base", recipeDir, "bookworm", "minbase", List.of());
    }

    @Test
    void aMissingProgramIsNamedWithThePackageToInstallNotAsALockFailure() throws Exception {
        // A PATH holding no programs at all: as on a fresh machine without dpkg or debootstrap.
        Path emptyBin = Files.createDirectories(dir.resolve("empty-bin"));

        assertThatThrownBy(() -> builder(new BuildTools(emptyBin.toString())).build(List.of(debianRecipe())))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageStartingWith("dpkg not found: apt-get install dpkg (")
                .hasMessageNotContaining("cannot lock");
    }

    @Test
    void debootstrapMissingSaysWhichPackageToInstall() {
        Path emptyBin = dir.resolve("empty-bin");

        assertThatThrownBy(() -> new BuildTools(emptyBin.toString()).locate("debootstrap"))
                .hasMessageStartingWith("debootstrap not found: apt-get install debootstrap (");
        assertThat(BuildTools.fromEnvironment().locate("tar")).endsWith("/tar");
    }

    @Test
    void anUnreadableInputNamesTheStepAndTheRecipe() throws Exception {
        Path recipeDir = Files.createDirectories(dir.resolve("recipes/test-app"));
        // No recipe file: the input hash cannot read it.
        ImageRecipe recipe = new ImageRecipe.Dockerfile("test-app", recipeDir, List.of(), Map.of());

        assertThatThrownBy(() -> builder(BuildTools.fromEnvironment()).build(List.of(recipe)))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageStartingWith("[1/1] test-app: hashing its inputs failed (recipe "
                        + recipeDir.resolve(ImageRecipes.RECIPE_FILE) + "): ")
                .hasMessageContaining("no such file or directory")
                .hasMessageNotContaining("cannot lock");
    }

    @Test
    void aMissingNativeLibraryNamesTheRecipeFieldAndTheFile() throws Exception {
        Path recipeDir = Files.createDirectories(dir.resolve("recipes/test-java"));
        Files.writeString(recipeDir.resolve(ImageRecipes.RECIPE_FILE), "name: test-java\n");
        ImageRecipe recipe = new ImageRecipe.Jlink("test-java", recipeDir, List.of("java.base"), List.of("../native/libnone.so"));

        assertThatThrownBy(() -> builder(BuildTools.fromEnvironment()).build(List.of(recipe)))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageContaining(recipeDir.resolve(ImageRecipes.RECIPE_FILE) + ": native-libraries: "
                        + dir.resolve("recipes/native/libnone.so") + " does not exist (build the module first)");
    }

    @Test
    void onlyALockThatCannotBeTakenSaysCannotLock() throws Exception {
        // A folder where the lock file should be: opening it for writing fails.
        Path lock = Files.createDirectories(dir.resolve("state/images/build-" + ImagePlatform.host().arch() + ".lock"));

        assertThatThrownBy(() -> builder(BuildTools.fromEnvironment()).build(List.of()))
                .isInstanceOf(ImageBuildException.class)
                .hasMessage("cannot lock " + lock + ": " + lock + ": Is a directory");
    }

    @Test
    void tarsExitCodeIsCheckedAndItsStderrReported() throws Exception {
        Path missing = dir.resolve("no-such-context");
        try (ContextTar tar = ContextTar.start(BuildTools.fromEnvironment().locate("tar"), missing, dir.resolve("tar.err"))) {
            tar.stream().readAllBytes();

            assertThatThrownBy(() -> tar.finish(true))
                    .isInstanceOf(ImageBuildException.class)
                    .hasMessageStartingWith("tar of the build context " + missing + " exited with 2: ")
                    .hasMessageContaining(missing + ": Cannot open: No such file or directory");
        }
    }

    @Test
    void aContextTarThatSucceedsSaysNothing() throws Exception {
        Path context = Files.createDirectories(dir.resolve("context"));
        Files.writeString(context.resolve("Dockerfile"), "FROM scratch\n");
        try (ContextTar tar = ContextTar.start(BuildTools.fromEnvironment().locate("tar"), context, dir.resolve("tar.err"))) {
            assertThat(tar.stream().readAllBytes().length).isGreaterThan(512);
            tar.finish(true);
        }
    }
}
