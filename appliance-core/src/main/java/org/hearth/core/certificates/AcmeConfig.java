package org.hearth.core.certificates;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code acme:} in appliance.yaml: the certificate authority a paired box takes its certificates
 * from. Let's Encrypt unless {@code directory} names another ACME server (a test world's pebble);
 * {@code trust}, a PEM file, is the CA of that server's own HTTPS certificate when it is not one
 * Java trusts.
 */
public record AcmeConfig(URI directory, Optional<Path> trust) {

    public static final URI LETS_ENCRYPT = URI.create("https://acme-v02.api.letsencrypt.org/directory");

    @JsonCreator
    public AcmeConfig(@JsonProperty("directory") String directory, @JsonProperty("trust") String trust) {
        this(parse(directory), Optional.ofNullable(trust).filter(t -> !t.isBlank()).map(Path::of));
    }

    public static AcmeConfig defaults() {
        return new AcmeConfig(LETS_ENCRYPT, Optional.empty());
    }

    private static URI parse(String directory) {
        if (directory == null || directory.isBlank()) {
            return LETS_ENCRYPT;
        }
        try {
            URI uri = URI.create(directory.strip());
            if ("https".equals(uri.getScheme()) && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // Named below.
        }
        throw new IllegalArgumentException("acme.directory: an ACME server's https:// directory URL is needed, not " + directory);
    }
}
