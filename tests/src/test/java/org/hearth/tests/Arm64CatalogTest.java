package org.hearth.tests;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.hearth.core.catalog.ImageArchiveLoader;
import org.hearth.core.image.ImagePlatform;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.image.ImageRecipes;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hearth's images built for the Raspberry Pi's arm64 on this machine (debootstrap's second stage,
 * Debian's arm64 JDK for jlink, and Dockerfile RUN steps under qemu-user), tagged {@code :arm64}, and
 * a catalog carrying an archive per architecture: the arm64 one loads under the manifest's own tags,
 * and a box installs the archive of its engine's architecture, refusing a release that has none.
 * The arm64 images run here under qemu-user; on an arm64 engine (the SD card's board) they run natively.
 * Slow when cold (the images' Debian parts under emulation, about 25 minutes); then cached like this
 * machine's own images.
 */
@Tag("engine")
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class Arm64CatalogTest {

    private static final ImagePlatform ARM64 = new ImagePlatform("arm64", true);
    private static final String APP = "arm64-echo";
    private static final String IMAGE = "hearth-pitest/probe";
    private static Engine engine;
    private static Path state;
    private static HearthCli hearth;
    private static String key;
    private static String amd64Id;
    private static String arm64Id;

    @BeforeAll
    static void buildForBothArchitectures() throws Exception {
        assertThat(ImagePlatform.host().arch()).as("this test builds the Pi's arm64 on an x86-64 machine").isEqualTo("amd64");
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe");
        EngineFixture.buildTestImages(engine, ARM64, "probe");
        amd64Id = engine.client().inspectImageCmd("hearth-test/probe:latest").exec().getId();
        arm64Id = engine.client().inspectImageCmd("hearth-test/probe:arm64").exec().getId();
        // The app's image under a name of this test's own, in both architectures' tags.
        engine.client().tagImageCmd(amd64Id, IMAGE, "latest").exec();
        engine.client().tagImageCmd(arm64Id, IMAGE, "arm64").exec();

        state = EngineFixture.newStateDir("arm64");
        hearth = new HearthCli(state);
        Path source = Files.createDirectories(state.resolve("manifests").resolve(APP));
        Files.writeString(source.resolve("app.yaml"), String.join("\n",
                "schema: 1", "app: " + APP, "version: 1.0.0", "description: An echo server for two architectures.",
                "containers:", "  echo:", "    image: " + IMAGE, "    lifecycle: service", "    command: [echo-server, \"7000\"]",
                "    ports:", "      - name: echo", "        port: 7000", "        exposure: private", "        listen: 17310",
                "    health:", "      tcp: echo", "      interval: 500ms", "      start-period: 20s", ""));
        key = hearth.ok("catalog", "key", "new", "--out", state.resolve("catalog.key").toString()).stdout().split("\\s+")[0];
    }

    @AfterAll
    static void tearDown() {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        for (String tag : List.of(IMAGE + ":latest", IMAGE + ":arm64")) {
            try {
                engine.client().removeImageCmd(tag).exec();
            } catch (NotFoundException gone) {
                // Never loaded, or removed by the test.
            }
        }
        engine.close();
    }

    @Test
    @Order(1)
    void everyHearthImageIsBuiltForArm64AndItsProgramsAreArm64s() {
        for (ImageRecipe recipe : ImageRecipes.loadAll(EngineFixture.home().imageRecipes())) {
            InspectImageResponse image = engine.client().inspectImageCmd(recipe.tag(ARM64)).exec();
            assertThat(image.getArch()).as(recipe.tag(ARM64)).isEqualTo("arm64");
            assertThat(image.getConfig().getLabels()).containsKey(HearthLabels.INPUT_HASH);
            assertThat(image.getConfig().getUser()).isEqualTo(ImageRecipe.USER);
        }
        // Debian's arm64 Perl (debootstrap's second stage under emulation) and the jlink-ed arm64 JVM.
        ClientProcess.Result perl = ClientProcess.run(List.of("docker", "run", "--rm", "--network", "none",
                "hearth/debian-base:arm64", "perl", "-MConfig", "-e", "print $Config{archname}"), Duration.ofSeconds(120));
        assertThat(perl.stdout()).as("%s", perl).startsWith("aarch64-linux");
        ClientProcess.Result java = ClientProcess.run(List.of("docker", "run", "--rm", "--network", "none",
                "hearth-test/probe:arm64", "security-providers"), Duration.ofSeconds(180));
        assertThat(java.stdout()).as("%s", java).contains("SUN=loaded", "SunEC=loaded", "SunJSSE=loaded").doesNotContain("missing");
        ClientProcess.Result arch = ClientProcess.run(List.of("docker", "run", "--rm", "--network", "none",
                "hearth/java-base:arm64", "java", "-XshowSettings:properties", "-version"), Duration.ofSeconds(180));
        assertThat(arch.stderr()).as("%s", arch).contains("os.arch = aarch64").contains("sun.jnu.encoding = UTF-8");
    }

    @Test
    @Order(2)
    void theCatalogCarriesAnArchivePerArchitectureAndTheArm64OneLoadsAsTheManifestNamesIt() throws Exception {
        Path catalog = state.resolve("both");
        // Published for this machine first, as every catalog was before arm64; the same release then
        // gains the Pi's archive (an architecture added is not "other content").
        assertThat(hearth.ok("catalog", "build", "--key", state.resolve("catalog.key").toString(), "--out", catalog.toString(),
                "--name", "both", "--manifests", state.resolve("manifests").toString()).stdout())
                .contains("catalog both: index 1");
        assertThat(hearth.ok("catalog", "build", "--key", state.resolve("catalog.key").toString(), "--out", catalog.toString(),
                "--name", "both", "--manifests", state.resolve("manifests").toString(), "--arch", "amd64,arm64").stdout())
                .contains("already published").contains("catalog both: index 2");

        JsonNode release = new ObjectMapper().readTree(catalog.resolve("index.json").toFile()).get("apps").get(0).get("releases").get(0);
        assertThat(release.get("images")).hasSize(2);
        JsonNode amd64 = release.get("images").get(0);
        JsonNode arm64 = release.get("images").get(1);
        assertThat(amd64.get("arch").asText()).isEqualTo("amd64");
        assertThat(amd64.get("contents").get(0).get("ref").asText()).isEqualTo(IMAGE + ":latest");
        assertThat(amd64.get("contents").get(0).get("id").asText()).isEqualTo(amd64Id);
        assertThat(arm64.get("arch").asText()).isEqualTo("arm64");
        assertThat(arm64.get("contents").get(0).get("ref").asText()).isEqualTo(IMAGE + ":latest");
        assertThat(arm64.get("contents").get(0).get("id").asText()).isEqualTo(arm64Id);

        // What an arm64 engine loads: the arm64 image, tagged latest as the manifest runs it.
        JsonNode manifest = archiveManifest(catalog.resolve(arm64.get("archive").get("path").asText()));
        assertThat(manifest).hasSize(1);
        assertThat(manifest.get(0).get("RepoTags").get(0).asText()).isEqualTo(IMAGE + ":latest");
        assertThat(manifest.get(0).get("Config").asText()).startsWith(arm64Id.substring("sha256:".length()));

        Files.writeString(state.resolve("appliance.yaml"), String.join("\n", "catalog:", "  sources:",
                "    - name: both", "      path: " + catalog, "      keys: [\"" + key + "\"]", ""));
        hearth.ok("up");
        engine.client().removeImageCmd(IMAGE + ":latest").exec();
        HearthCli.Result r = hearth.ok("app", "install", APP, "--timeout", "120");
        assertThat(r.stdout()).contains("verified and its images loaded").contains("installed " + APP + " 1.0.0: healthy in");
        assertThat(imageId(IMAGE + ":latest")).contains(amd64Id);
        assertThat(hearth.ok("catalog", "show", APP).stdout()).containsPattern("images amd64 \\d+ MiB, arm64 \\d+ MiB");
    }

    @Test
    @Order(3)
    void aReleaseWithoutImagesForThisBoxsArchitectureIsRefusedNamingWhatTheCatalogOffers() throws Exception {
        hearth.run("app", "remove", APP);
        Path catalog = state.resolve("pi-only");
        hearth.ok("catalog", "build", "--key", state.resolve("catalog.key").toString(), "--out", catalog.toString(),
                "--name", "pi-only", "--manifests", state.resolve("manifests").toString(), "--arch", "arm64");
        Files.writeString(state.resolve("appliance.yaml"), String.join("\n", "catalog:", "  sources:",
                "    - name: pi-only", "      path: " + catalog, "      keys: [\"" + key + "\"]", ""));

        // By name: the newest release this box can run, and there is none.
        HearthCli.Result r = hearth.run("app", "install", APP, "--timeout", "60");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("no catalog lists an app " + APP + " for amd64; pi-only lists " + APP
                + " for arm64 only, not amd64");
        // By version: that release, refused before any image is fetched.
        r = hearth.run("app", "install", APP + "@1.0.0", "--timeout", "60");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains(APP + " 1.0.0 has no images for this box's architecture, amd64 (the catalog offers arm64)");
        assertThat(hearth.ok("app", "list").stdout()).doesNotContain(APP);

        // What a Pi's engine does with the archive, done by this one: the manifest's tag, the arm64 image.
        Path archive;
        try (var files = Files.list(catalog.resolve("images"))) {
            archive = files.findFirst().orElseThrow();
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive))) {
            assertThat(new ImageArchiveLoader(engine.client(), Duration.ofMinutes(5)).load(archive.toString(), in))
                    .containsExactly(IMAGE + ":latest");
        }
        assertThat(imageId(IMAGE + ":latest")).contains(arm64Id);
    }

    /** The {@code manifest.json} of a gzip'd {@code docker save} archive. */
    private static JsonNode archiveManifest(Path archive) throws IOException {
        try (InputStream file = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(file))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.getName().equals("manifest.json")) {
                    return new ObjectMapper().readTree(tar.readAllBytes());
                }
            }
        }
        throw new AssertionError(archive + " has no manifest.json");
    }

    private static Optional<String> imageId(String tag) {
        try {
            return Optional.of(engine.client().inspectImageCmd(tag).exec().getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }
}
