package org.hearth.tests;

import com.github.dockerjava.api.exception.NotFoundException;
import org.hearth.core.runtime.Engine;
import org.hearth.registry.TestRegistry;
import org.hearth.tls.TlsIdentity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An app published as a signed catalog folder with the real CLI ({@code hearth catalog key new},
 * {@code catalog build}) and installed by name on a box that pins the key: its image archive goes into
 * the real engine only after its SHA-256 matched the signed index, and one flipped byte in the
 * archive, the manifest or the index is refused with the file named, nothing installed. The app's
 * image exists under a name of this test's own, removed before the install, so the install must load
 * it from the archive. Last, the registry serves the same folder over HTTPS and the box installs from there.
 */
@Tag("engine")
@Tag(EngineFixture.BOTH_ENGINES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CatalogInstallTest {

    private static final String APP = "catalog-echo";
    private static final String IMAGE = "hearth-cattest/probe";
    private static Engine engine;
    private static Path state;
    private static Path catalog;
    private static HearthCli hearth;
    private static String probeId;

    @BeforeAll
    static void publishAnAppAndPinTheKey() throws Exception {
        engine = EngineFixture.engine();
        EngineFixture.buildTestImages(engine, "probe");
        probeId = engine.client().inspectImageCmd("hearth-test/probe:latest").exec().getId();
        engine.client().tagImageCmd(probeId, IMAGE, "latest").exec();
        state = EngineFixture.newStateDir("catalog");
        hearth = new HearthCli(state);

        Path source = Files.createDirectories(state.resolve("manifests").resolve(APP));
        Files.writeString(source.resolve("app.yaml"), String.join("\n",
                "schema: 1", "app: " + APP, "version: 1.0.0", "description: An echo server from a catalog.",
                "containers:", "  echo:", "    image: " + IMAGE, "    lifecycle: service", "    command: [echo-server, \"7000\"]",
                "    ports:", "      - name: echo", "        port: 7000", "        exposure: private", "        listen: 17300",
                "    health:", "      tcp: echo", "      interval: 500ms", "      start-period: 20s", ""));
        Files.writeString(source.resolve("release-notes.md"), "The first release.\n");
        String key = hearth.ok("catalog", "key", "new", "--out", state.resolve("catalog.key").toString()).stdout().split("\\s+")[0];
        assertThat(key).startsWith("ed25519:");
        catalog = state.resolve("published");
        assertThat(hearth.ok("catalog", "build", "--key", state.resolve("catalog.key").toString(), "--out", catalog.toString(),
                "--name", "test", "--manifests", state.resolve("manifests").toString()).stdout())
                .contains("catalog test: index 1");
        engine.client().removeImageCmd(IMAGE + ":latest").exec();
        assertThat(imageId()).isEmpty();

        Files.writeString(state.resolve("appliance.yaml"), String.join("\n", "catalog:", "  sources:", "    - name: test",
                "      path: " + catalog, "      keys: [\"" + key + "\"]", ""));
        hearth.ok("up");
    }

    @AfterAll
    static void tearDown() {
        if (hearth != null) {
            hearth.run("app", "remove", APP);
            hearth.run("down");
        }
        try {
            engine.client().removeImageCmd(IMAGE + ":latest").exec();
        } catch (NotFoundException gone) {
            // Never loaded.
        }
        engine.close();
    }

    @Test
    @Order(1)
    void aFlippedByteInTheImageArchiveIsRefusedBeforeTheEngineLoadsIt() throws IOException {
        Path archive;
        try (Stream<Path> files = Files.list(catalog.resolve("images"))) {
            archive = files.findFirst().orElseThrow();
        }
        flip(archive, Files.size(archive) / 2);
        try {
            HearthCli.Result r = hearth.run("app", "install", APP);
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("images/" + archive.getFileName() + " failed verification")
                    .contains("nothing was installed");
        } finally {
            flip(archive, Files.size(archive) / 2);
        }
        assertThat(imageId()).isEmpty();
        assertThat(hearth.ok("app", "list").stdout()).doesNotContain(APP);
    }

    @Test
    @Order(2)
    void aFlippedByteInTheManifestIsRefused() throws IOException {
        Path manifest = catalog.resolve("apps/" + APP + "/1.0.0/app.yaml");
        flip(manifest, 30);
        try {
            HearthCli.Result r = hearth.run("app", "install", APP);
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("apps/" + APP + "/1.0.0/app.yaml failed verification");
        } finally {
            flip(manifest, 30);
        }
        assertThat(hearth.ok("app", "list").stdout()).doesNotContain(APP);
    }

    @Test
    @Order(3)
    void theAppInstallsByNameWithItsImageLoadedFromTheVerifiedArchive() {
        HearthCli.Result r = hearth.ok("app", "install", APP + "@1.0.0", "--timeout", "120");
        assertThat(r.stdout()).contains("verified and its images loaded").contains("installed " + APP + " 1.0.0: healthy in");
        assertThat(imageId()).contains(probeId);
        assertThat(hearth.ok("catalog", "list").stdout()).contains("test (" + catalog + "): index 1")
                .containsPattern(APP + " +1\\.0\\.0 +installed 1\\.0\\.0");
        assertThat(hearth.ok("catalog", "show", APP).stdout()).contains("The first release.");
    }

    @Test
    @Order(4)
    void aFlippedByteInTheIndexIsRefusedAndTheHeldIndexStays() throws IOException {
        Path index = catalog.resolve("index.json");
        flip(index, Files.size(index) - 10);
        try {
            HearthCli.Result r = hearth.run("catalog", "refresh");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stdout()).contains("test: refused: index.json: the signature by key").contains("(keeping index 1)");
        } finally {
            flip(index, Files.size(index) - 10);
        }
        assertThat(hearth.ok("catalog", "list").stdout()).contains("index 1");
    }

    @Test
    @Order(5)
    void theSameCatalogServedOverHttpsByTheRegistryInstallsTheAppAgain() throws Exception {
        hearth.ok("app", "remove", APP);
        engine.client().removeImageCmd(IMAGE + ":latest").exec();
        TlsIdentity identity = TlsIdentity.ephemeral("localhost");
        Path chain = state.resolve("registry-chain.pem");
        Files.writeString(state.resolve("registry-key.pem"), pem("PRIVATE KEY", identity.privateKey().getEncoded()));
        Files.writeString(chain, pem("CERTIFICATE", identity.certificate().getEncoded()));
        TestRegistry registry = TestRegistry.overHttps(chain, state.resolve("registry-key.pem")).withCatalog(catalog);
        registry.start();
        try {
            String yaml = Files.readString(state.resolve("appliance.yaml"));
            Files.writeString(state.resolve("appliance.yaml"), yaml.replace("path: " + catalog,
                    "url: https://localhost:" + registry.port() + "/catalog\n      trust: " + chain));
            assertThat(hearth.ok("catalog", "refresh").stdout()).contains("test: index 1, unchanged");
            HearthCli.Result r = hearth.ok("app", "install", APP, "--timeout", "120");
            assertThat(r.stdout()).contains("verified and its images loaded").contains("installed " + APP + " 1.0.0: healthy in");
            assertThat(imageId()).contains(probeId);
        } finally {
            registry.close();
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static Optional<String> imageId() {
        try {
            return Optional.of(engine.client().inspectImageCmd(IMAGE + ":latest").exec().getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    private static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
    }
}
