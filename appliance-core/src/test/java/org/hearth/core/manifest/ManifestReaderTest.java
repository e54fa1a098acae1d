package org.hearth.core.manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ManifestReaderTest {

    private static final Path MANIFESTS = Path.of("src/test/resources/manifests");

    static Stream<Path> invalidManifests() throws IOException {
        try (Stream<Path> files = Files.list(MANIFESTS.resolve("invalid"))) {
            return files.sorted().toList().stream();
        }
    }

    /**
     * Each invalid manifest marks the line where its problem is with {@code # <- FIELD: MESSAGE}; the
     * reader must report exactly that file, line, field and message (the message may go on).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void rejectsInvalidManifestNamingFileLineAndField(Path file) throws IOException {
        List<String> expected = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            int marker = lines.get(i).indexOf("# <- ");
            if (marker >= 0) {
                expected.add(file + ":" + (i + 1) + ": " + lines.get(i).substring(marker + 5));
            }
        }
        assertThat(expected).as("the file marks its expected problem").isNotEmpty();

        ManifestException e = catchThrowableOfType(() -> ManifestReader.read(file), ManifestException.class);

        assertThat(e).as("rejected").isNotNull();
        List<String> reported = e.problems().stream().map(ManifestProblem::toString).toList();
        for (String want : expected) {
            if (want.contains("Duplicate field")) {
                // The YAML parser reports duplicates in its own words, at the duplicate key's line.
                assertThat(reported).anySatisfy(r -> assertThat(r).startsWith(want.substring(0, want.indexOf(": ") + 2))
                        .contains("Duplicate field 'web'"));
            } else {
                assertThat(reported).anySatisfy(r -> assertThat(r).startsWith(want));
            }
        }
    }

    @Test
    void thereAreAtLeastTwentyInvalidManifests() throws IOException {
        assertThat(invalidManifests().count()).isGreaterThanOrEqualTo(20);
    }

    @Test
    void reportsEveryProblemAtOnceInLineOrder() {
        String text = """
                schema: 1
                app: many
                version: 1.0.0
                containers:
                  web:
                    image: hearth/web
                    lifecycle: service
                    privileged: true
                    ports:
                      - name: http
                        port: 80
                        exposure: publik
                    edges:
                      - to: nowhere
                        port: x
                """;

        ManifestException e = catchThrowableOfType(() -> ManifestReader.read("many.yaml", text), ManifestException.class);

        assertThat(e.problems()).extracting(ManifestProblem::toString).containsExactly(
                "many.yaml:8: containers.web.privileged: privileged setting \"privileged\" is never allowed: Hearth runs"
                        + " every container non-root, on a read-only root, with no capabilities, no host paths and only"
                        + " its declared networks",
                "many.yaml:12: containers.web.ports[0].exposure: \"publik\" is not one of public, private, internal",
                "many.yaml:14: containers.web.edges[0].to: no container named \"nowhere\" (containers: web)");
    }

    @Test
    void readsAValidManifestWithDefaultsFilledIn() {
        AppManifest m = ManifestReader.read(MANIFESTS.resolve("valid/two-containers.yaml"));

        assertThat(m.app()).isEqualTo("echo");
        assertThat(m.containers()).containsOnlyKeys("echo", "client");
        AppManifest.Container echo = m.containers().get("echo");
        assertThat(echo.lifecycle()).isEqualTo(AppManifest.Lifecycle.SERVICE);
        assertThat(echo.port("echo")).hasValueSatisfying(p -> {
            assertThat(p.exposure()).isEqualTo(AppManifest.Exposure.PRIVATE);
            assertThat(p.listen()).contains(17000);
        });
        assertThat(echo.memoryBytes()).isEqualTo(64L << 20);
        assertThat(echo.pids()).isEqualTo(32);
        assertThat(echo.health()).hasValueSatisfying(h -> {
            assertThat(h.tcp()).contains("echo");
            assertThat(h.intervalOrDefault()).isEqualTo(Duration.ofMillis(500));
            assertThat(h.startPeriodOrDefault()).isEqualTo(Duration.ofSeconds(20));
            assertThat(h.retriesOrDefault()).isEqualTo(3);
        });
        AppManifest.Container client = m.containers().get("client");
        assertThat(client.edges()).containsExactly(new AppManifest.Edge("echo", "echo"));
        assertThat(client.memoryBytes()).isEqualTo(128L << 20);
        assertThat(m.dns()).hasSize(1);
    }

    @Test
    void theShippedMailAppServesEachConnectionAndScansEachMessageInASandboxOfOneLongLivedHost() {
        AppManifest mail = ManifestReader.read(Path.of("../manifests/mail/app.yaml"));

        AppManifest.Container spam = mail.containers().get("spam");
        assertThat(spam.sandboxHost()).isTrue();
        assertThat(spam.containerPerUse()).as("no container per message: the host forks a sandbox").isFalse();
        assertThat(spam.sandboxesOrDefault()).isEqualTo(4);
        AppManifest.Container smtp = mail.containers().get("smtp-in");
        assertThat(smtp.sandboxHost()).isTrue();
        assertThat(smtp.containerPerUse()).as("no container per connection: the host forks a sandbox").isFalse();
        assertThat(smtp.sandboxesOrDefault()).isEqualTo(64);
        assertThat(mail.containers().get("imap").sandboxHost()).isFalse();
        // Its host names are the box's: renamed when the box is paired.
        assertThat(BoxName.expand(smtp.environment(), "alice.boxes.example", mail)).containsEntry("MAIL_HOSTNAME",
                "mx.alice.boxes.example");
        // The scanner's sandboxes may ask the resolver (sender checks); the parsers reach nothing else.
        assertThat(spam.egress()).extracting(AppManifest.Egress::to).containsExactly(AppManifest.Egress.RESOLVER);
        assertThat(smtp.egress()).isEmpty();
        assertThat(mail.containers().get("imap").egress()).isEmpty();
    }

    @Test
    void aNewSpecStartsBesideTheOldOnlyWhereNoVolumeAndNoPeerWouldSeeTwo() {
        AppManifest mail = ManifestReader.read(Path.of("../manifests/mail/app.yaml"));

        // The internet-facing parsers are reached only through their listeners, and keep nothing.
        for (String beside : List.of("smtp-in", "wellknown")) {
            assertThat(mail.rolloutOf(beside)).as(beside).isEqualTo(AppManifest.Rollout.BESIDE);
        }
        // Volumes have one writer; the scanner has volumes and peers that reach it by name.
        for (String replaced : List.of("imap", "spam", "outbound", "webmail")) {
            assertThat(mail.rolloutOf(replaced)).as(replaced).isEqualTo(AppManifest.Rollout.REPLACE);
        }
        AppManifest twoContainers = ManifestReader.read(MANIFESTS.resolve("valid/two-containers.yaml"));
        assertThat(twoContainers.rolloutOf("echo")).as("reached by its client").isEqualTo(AppManifest.Rollout.REPLACE);
        assertThat(twoContainers.migrate()).isEmpty();
    }

    @Test
    void emptyOrScalarDocumentIsRefusedPlainly() {
        assertThatThrownBy(() -> ManifestReader.read("empty.yaml", "just text"))
                .isInstanceOf(ManifestException.class)
                .hasMessage("empty.yaml:1: a manifest is a mapping with schema, app, version and containers");
    }
}
