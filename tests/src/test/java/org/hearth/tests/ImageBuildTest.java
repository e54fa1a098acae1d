package org.hearth.tests;

import com.github.dockerjava.api.command.InspectImageResponse;
import org.hearth.core.image.ImageBuilder;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.image.ImageRecipes;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hearth images build} on the real engine: labelled, non-root images, and a fast cached rebuild. */
@Tag("engine")
class ImageBuildTest {

    private static Engine engine;

    @BeforeAll
    static void connect() {
        engine = EngineFixture.engine();
        EngineFixture.buildPlatformImages(engine);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void secondBuildWithUnchangedInputsIsCachedAndQuick() {
        long start = System.nanoTime();
        List<ImageBuilder.Result> results = EngineFixture.rebuildPlatformImages(engine);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(results).isNotEmpty().allMatch(ImageBuilder.Result::cached);
        // A real build takes minutes; 30 s leaves room for a wait on the build lock while the
        // other engine class beside this one builds its own test images.
        assertThat(took).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void rebuildWithChangedInputsReplacesTheImageAndRemovesTheOldOne(@TempDir Path dir) throws IOException {
        Path recipe = Files.createDirectories(dir.resolve("rebuilt"));
        Files.writeString(recipe.resolve("image.yaml"), "name: hearth-test/rebuilt\nkind: dockerfile\n"
                + "from: [hearth/debian-base]\nfiles:\n  note.txt: note.txt\n");
        Files.writeString(recipe.resolve("Dockerfile"), "FROM hearth/debian-base:latest\nCOPY note.txt /note.txt\n");
        Files.writeString(recipe.resolve("note.txt"), "first");
        ImageBuilder builder = new ImageBuilder(engine, EngineFixture.home(), line -> { },
                Map.of(HearthLabels.TEST, EngineFixture.TEST_RUN));
        List<ImageRecipe> platform = ImageRecipes.loadAll(EngineFixture.home().imageRecipes());
        builder.build(ImageRecipes.loadAll(dir, platform));
        String first = engine.client().inspectImageCmd("hearth-test/rebuilt:latest").exec().getId();

        Files.writeString(recipe.resolve("note.txt"), "second");
        List<ImageBuilder.Result> again = builder.build(ImageRecipes.loadAll(dir, platform));

        assertThat(again).singleElement().matches(r -> !r.cached());
        assertThat(engine.client().inspectImageCmd("hearth-test/rebuilt:latest").exec().getId()).isNotEqualTo(first);
        assertThat(engine.client().listImagesCmd().withShowAll(true).exec())
                .noneMatch(image -> image.getId().equals(first));
    }

    /** A non-ASCII argument (an alias "jörg@...") reaches the JVM intact only under a UTF-8 locale. */
    @Test
    void theJavaBaseReadsArgumentsAndWritesOutputAsUtf8() {
        ClientProcess.Result run = ClientProcess.run(List.of("docker", "run", "--rm", "--network", "none",
                "hearth/java-base:latest", "java", "-XshowSettings:properties", "-version"), Duration.ofSeconds(60));
        assertThat(run.stderr()).as("%s", run).contains("sun.jnu.encoding = UTF-8").contains("file.encoding = UTF-8");
    }

    /**
     * Every security provider the Java base lists exists in it: the JCA looks for a missing one
     * among the class path's providers by instantiating each (Bouncy Castle's whole JCA and
     * post-quantum providers, in the store and outbound, which use only its lightweight API).
     */
    @Test
    void theJavaBaseListsOnlySecurityProvidersItHas() {
        EngineFixture.buildTestImages(engine, "probe");
        ClientProcess.Result run = ClientProcess.run(List.of("docker", "run", "--rm", "--network", "none",
                "hearth-test/probe:latest", "security-providers"), Duration.ofSeconds(60));
        assertThat(run.stdout()).as("%s", run).contains("SUN=loaded", "SunEC=loaded", "SunJSSE=loaded").doesNotContain("missing");
    }

    @Test
    void everyPlatformImageIsLabelledAndRunsAsTheHearthUser() {
        for (String tag : List.of("hearth/debian-base:latest", "hearth/java-base:latest")) {
            InspectImageResponse image = engine.client().inspectImageCmd(tag).exec();
            assertThat(image.getConfig().getLabels())
                    .containsEntry(HearthLabels.MANAGED, "true")
                    .containsEntry(HearthLabels.APP, "hearth")
                    .containsKey(HearthLabels.INPUT_HASH);
            assertThat(image.getConfig().getUser()).as(tag).isEqualTo(ImageRecipe.USER);
        }
    }
}
