package org.hearth.core;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.hearth.core.catalog.CatalogConfig;
import org.hearth.core.certificates.AcmeConfig;
import org.hearth.core.network.EgressConfig;
import org.hearth.core.overlay.OverlayConfig;
import org.hearth.core.ownerapp.OwnerAppConfig;
import org.hearth.core.pairing.RegistryConfig;
import org.hearth.core.yaml.YamlLines;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The appliance's own settings, {@code appliance.yaml} in the state folder; every key is optional.
 * Unknown keys are errors, so a misspelt setting is never silently ignored.
 */
public record ApplianceConfig(OverlayConfig overlay, EgressConfig egress, RegistryConfig registry, AcmeConfig acme,
                              @JsonProperty("owner-app") OwnerAppConfig ownerApp, CatalogConfig catalog) {

    public static final String FILE = "appliance.yaml";
    private static final ObjectMapper YAML = new ObjectMapper(
            YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .registerModule(new Jdk8Module());

    public ApplianceConfig {
        overlay = overlay == null ? OverlayConfig.defaults() : overlay;
        egress = egress == null ? EgressConfig.defaults() : egress;
        registry = registry == null ? RegistryConfig.none() : registry;
        acme = acme == null ? AcmeConfig.defaults() : acme;
        ownerApp = ownerApp == null ? OwnerAppConfig.defaults() : ownerApp;
        catalog = catalog == null ? CatalogConfig.none() : catalog;
    }

    public static Path file(HearthHome home) {
        return home.state().resolve(FILE);
    }

    /** The state folder's config, or the defaults when it has none; a bad file is an error naming file, line and key. */
    public static ApplianceConfig read(HearthHome home) {
        Path file = file(home);
        if (!Files.isRegularFile(file)) {
            return new ApplianceConfig(null, null, null, null, null, null);
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (text.isBlank()) {
            return new ApplianceConfig(null, null, null, null, null, null);
        }
        try {
            return YAML.readValue(text, ApplianceConfig.class);
        } catch (ValueInstantiationException e) {
            // A setting's own check failed: its message says what is wrong, without the binder's preamble.
            throw new IllegalArgumentException(YamlLines.describe(file, text, e)
                    .replaceFirst("Cannot construct instance of `[^`]*`, problem: ", ""), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(YamlLines.describe(file, text, e), e);
        }
    }
}
