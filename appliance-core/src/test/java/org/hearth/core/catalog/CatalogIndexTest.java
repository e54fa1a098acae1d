package org.hearth.core.catalog;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The index's images per architecture, and the format 1 indexes published before there were several. */
class CatalogIndexTest {

    private static final String FILE = "{\"path\": \"%s\", \"sha256\": \"" + "a".repeat(64) + "\", \"size\": 10}";
    private static final String IMAGE = "{\"ref\": \"hearth/x:latest\", \"id\": \"sha256:" + "b".repeat(64) + "\"}";

    private static String index(int format, String images) {
        return "{\"format\": " + format + ", \"catalog\": \"hearth\", \"version\": 3, \"published\": \"2026-12-01T00:00:00Z\","
                + " \"expires\": \"2026-12-31T00:00:00Z\", \"apps\": [{\"name\": \"x\", \"description\": \"X\", \"releases\": ["
                + "{\"version\": \"1.0.0\", \"min-hearth\": \"0.1.0\", \"manifest\": " + FILE.formatted("apps/x/1.0.0/app.yaml")
                + ", \"images\": " + images + "}]}]}";
    }

    private static String images(String arch, String archive) {
        return "{" + (arch == null ? "" : "\"arch\": \"" + arch + "\", ") + "\"archive\": " + FILE.formatted(archive)
                + ", \"contents\": [" + IMAGE + "]}";
    }

    private static CatalogIndex parse(String json) throws CatalogException {
        return CatalogIndex.parse("index.json", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aReleaseOffersAnArchivePerArchitectureAndTheBoxFindsItsOwn() throws Exception {
        CatalogIndex.Release release = parse(index(2, "[" + images("amd64", "images/a.tar.gz") + ", "
                + images("arm64", "images/b.tar.gz") + "]")).apps().get(0).latest();

        assertThat(release.arches()).containsExactly("amd64", "arm64");
        assertThat(release.imagesFor("arm64")).get().extracting(i -> i.archive().path()).isEqualTo("images/b.tar.gz");
        assertThat(release.imagesFor("riscv64")).isEmpty();
    }

    @Test
    void aFormatOneIndexIsStillReadAsAmd64() throws Exception {
        CatalogIndex.Release release = parse(index(1, images(null, "images/a.tar.gz"))).apps().get(0).latest();

        assertThat(release.arches()).containsExactly("amd64");
        assertThat(release.imagesFor("amd64")).get().extracting(i -> i.archive().path()).isEqualTo("images/a.tar.gz");
    }

    @Test
    void anArchitectureListedTwiceOrAReleaseWithoutImagesIsRefusedByName() {
        assertThatThrownBy(() -> parse(index(2, "[" + images("arm64", "images/a.tar.gz") + ", "
                + images("arm64", "images/b.tar.gz") + "]")))
                .hasMessage("index.json: apps.x@1.0.0.images[arm64]: an architecture named once, in lower-case letters and digits");
        assertThatThrownBy(() -> parse(index(2, "[]")))
                .hasMessage("index.json: apps.x@1.0.0.images: none, for any architecture");
        assertThatThrownBy(() -> parse(index(3, "[]")))
                .hasMessage("index.json: format 3 needs a newer Hearth (this one reads formats 1 and 2)");
        // A newer format may be laid out in ways this Hearth cannot bind: its number is read first.
        assertThatThrownBy(() -> parse("{\"format\": 3, \"apps\": {\"a\": \"new layout\"}}"))
                .hasMessage("index.json: format 3 needs a newer Hearth (this one reads formats 1 and 2)");
    }

    @Test
    void aBoxIsOfferedTheNewestReleaseWithImagesForItsArchitecture() throws Exception {
        String two = "{\"format\": 2, \"catalog\": \"hearth\", \"version\": 3, \"published\": \"2026-12-01T00:00:00Z\","
                + " \"expires\": \"2026-12-31T00:00:00Z\", \"apps\": [{\"name\": \"x\", \"description\": \"X\", \"releases\": ["
                + "{\"version\": \"1.0.0\", \"min-hearth\": \"0.1.0\", \"manifest\": " + FILE.formatted("apps/x/1.0.0/app.yaml")
                + ", \"images\": [" + images("amd64", "images/a.tar.gz") + ", " + images("arm64", "images/b.tar.gz") + "]},"
                + "{\"version\": \"2.0.0\", \"min-hearth\": \"0.1.0\", \"manifest\": " + FILE.formatted("apps/x/2.0.0/app.yaml")
                + ", \"images\": [" + images("amd64", "images/c.tar.gz") + "]}]}]}";
        CatalogIndex.App app = parse(two).apps().get(0);

        assertThat(app.latestFor("amd64")).get().extracting(CatalogIndex.Release::version).isEqualTo("2.0.0");
        assertThat(app.latestFor("arm64")).get().extracting(CatalogIndex.Release::version).isEqualTo("1.0.0");
        assertThat(app.offersNewerThan("1.0.0", "amd64")).isTrue();
        assertThat(app.offersNewerThan("1.0.0", "arm64")).as("2.0.0 has no arm64 images: no update for a Pi").isFalse();
        assertThat(app.latestFor("riscv64")).isEmpty();
    }
}
