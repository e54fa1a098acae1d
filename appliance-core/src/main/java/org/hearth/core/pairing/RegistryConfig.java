package org.hearth.core.pairing;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.net.URI;
import java.util.Optional;

/**
 * {@code registry:} in appliance.yaml: the registry this box pairs through and takes its name from
 * (https in production; http is accepted only on loopback and in test worlds the owner set up).
 * Absent: the box has no registry, and pairing is off.
 */
public record RegistryConfig(Optional<URI> url) {

    @JsonCreator
    public RegistryConfig(@JsonProperty("url") String url) {
        this(parse(url));
    }

    public static RegistryConfig none() {
        return new RegistryConfig(Optional.<URI>empty());
    }

    private static Optional<URI> parse(String url) {
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        URI uri;
        try {
            uri = URI.create(url.strip().replaceAll("/+$", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("registry.url: not a URL: " + url);
        }
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("registry.url: an https:// URL of a Hearth registry is needed, not " + url);
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("registry.url: the registry's address only, without a path: " + url);
        }
        return Optional.of(uri);
    }
}
