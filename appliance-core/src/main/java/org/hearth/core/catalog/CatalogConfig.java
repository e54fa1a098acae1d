package org.hearth.core.catalog;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.hearth.core.certificates.PemTrust;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code catalog:} in appliance.yaml: where apps come from. Each source names its catalog, where it
 * is (an https:// URL, or a folder for development and offline bundles) and the keys this box
 * trusts to sign it; nothing from a source is believed without one of those signatures.
 */
public record CatalogConfig(List<Source> sources) {

    @JsonCreator
    public CatalogConfig(@JsonProperty("sources") List<Source> sources) {
        this.sources = List.copyOf(sources == null ? List.of() : sources);
        Set<String> names = new HashSet<>();
        for (Source s : this.sources) {
            if (!names.add(s.name())) {
                throw new IllegalArgumentException("catalog.sources: catalog " + s.name() + " is listed twice");
            }
        }
    }

    public static CatalogConfig none() {
        return new CatalogConfig(List.of());
    }

    /**
     * One catalog. {@code trust}: a PEM file with the CA of the URL's HTTPS certificate when it is not
     * one Java trusts (a test world's, a home's own).
     */
    public record Source(String name, Optional<URI> url, Optional<Path> path, Set<CatalogKey.Public> keys, Optional<Path> trust) {

        @JsonCreator
        public Source(@JsonProperty("name") String name, @JsonProperty("url") String url, @JsonProperty("path") String path,
                      @JsonProperty("keys") List<String> keys, @JsonProperty("trust") String trust) {
            this(checkName(name), parseUrl(name, url), Optional.ofNullable(path).filter(p -> !p.isBlank()).map(Path::of),
                    parseKeys(name, keys), Optional.ofNullable(trust).filter(t -> !t.isBlank()).map(Path::of));
            if (this.url.isPresent() == this.path.isPresent()) {
                throw new IllegalArgumentException("catalog.sources." + name + ": either url (https://...) or path (a folder) is needed, not "
                        + (this.url.isPresent() ? "both" : "neither"));
            }
        }

        CatalogSource open() {
            if (path.isPresent()) {
                return new CatalogSource.Folder(path.get().toAbsolutePath());
            }
            HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(CatalogSource.Https.TIMEOUT)
                    .followRedirects(HttpClient.Redirect.NEVER);
            trust.ifPresent(pem -> client.sslContext(PemTrust.context(pem, "catalog.sources." + name + ".trust")));
            return new CatalogSource.Https(url.get(), client.build());
        }

        private static String checkName(String name) {
            if (name == null || !name.matches("[a-z][a-z0-9-]{0,30}")) {
                throw new IllegalArgumentException("catalog.sources: each source needs a name of lower-case letters, digits and dashes"
                        + " (the catalog's own, as its index says), not " + name);
            }
            return name;
        }

        private static Optional<URI> parseUrl(String name, String url) {
            if (url == null || url.isBlank()) {
                return Optional.empty();
            }
            try {
                URI uri = URI.create(url.strip());
                if ("https".equals(uri.getScheme()) && uri.getHost() != null && uri.getRawQuery() == null) {
                    return Optional.of(uri);
                }
            } catch (IllegalArgumentException e) {
                // Named below.
            }
            throw new IllegalArgumentException("catalog.sources." + name + ".url: an https:// URL is needed, not " + url);
        }

        private static Set<CatalogKey.Public> parseKeys(String name, List<String> keys) {
            if (keys == null || keys.isEmpty()) {
                throw new IllegalArgumentException("catalog.sources." + name + ".keys: at least one key (ed25519:BASE64) is needed:"
                        + " a catalog nobody vouches for is never used");
            }
            Set<CatalogKey.Public> parsed = new LinkedHashSet<>();
            for (String k : keys) {
                try {
                    parsed.add(CatalogKey.Public.parse(k));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("catalog.sources." + name + ".keys: " + e.getMessage());
                }
            }
            return Set.copyOf(parsed);
        }
    }
}
