package org.hearth.core.image;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The card's appliance.yaml, read back as the box reads it at its first boot. */
class SdImageConfigTest {

    private static final String KEY = "ed25519:" + "A".repeat(43) + "=";

    @TempDir
    Path dir;

    private ApplianceConfig asTheBoxReadsIt(Optional<SdImage.Catalog> catalog) throws Exception {
        SdImage.Options options = new SdImage.Options(dir.resolve("card.img"), Optional.empty(), Optional.empty(),
                URI.create("https://boxes.example.net"), List.of(), "arm64", catalog);
        Files.writeString(Files.createDirectories(dir.resolve("state")).resolve(ApplianceConfig.FILE), SdImage.applianceYaml(options));
        return ApplianceConfig.read(new HearthHome(dir, dir.resolve("state")));
    }

    @Test
    void theRegistryOverlayAndCatalogAreTheBoxsSettings() throws Exception {
        ApplianceConfig config = asTheBoxReadsIt(Optional.of(new SdImage.Catalog("hearth",
                URI.create("https://boxes.example.net/catalog"), List.of(KEY), Optional.of(dir.resolve("ca.pem")))));

        assertThat(config.registry().url()).contains(URI.create("https://boxes.example.net"));
        assertThat(config.overlay().provider()).isEqualTo("wireguard");
        assertThat(config.catalog().sources()).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("hearth");
            assertThat(s.url()).contains(URI.create("https://boxes.example.net/catalog"));
            assertThat(s.keys()).extracting(Object::toString).containsExactly(KEY);
            assertThat(s.trust()).contains(SdImage.CATALOG_TRUST);
        });
    }

    @Test
    void withoutACatalogTheBoxHasNone() throws Exception {
        assertThat(asTheBoxReadsIt(Optional.empty()).catalog().sources()).isEmpty();
    }
}
