package org.hearth.core.runtime;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.api.model.VersionComponent;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * A connection to the Docker engine. The API version is left unpinned so docker-java
 * negotiates whatever the local engine speaks (1.41 on Debian 12's docker.io).
 */
public final class Engine implements AutoCloseable {

    public static final String DEFAULT_HOST = "unix:///var/run/docker.sock";
    /** Where scripts/podman-up starts Podman's API service. */
    public static final String PODMAN_HOST = "unix:///run/hearth-podman/podman.sock";

    /** Which program answers the Docker API: they differ in a few details Hearth works around. */
    public enum Kind { DOCKER, PODMAN }

    private final String host;
    private final DockerClient client;
    private volatile Kind kind;

    private Engine(String host, DockerClient client) {
        this.host = host;
        this.client = client;
    }

    /**
     * The engine at {@code DOCKER_HOST} if set (the variable Docker's and Podman's tools share:
     * Podman's API service answers the same Docker API), else Docker's socket.
     */
    public static Engine connect() {
        return connect(defaultHost());
    }

    public static String defaultHost() {
        String configured = System.getenv("DOCKER_HOST");
        return configured == null || configured.isBlank() ? DEFAULT_HOST : configured;
    }

    public static Engine connect(String host) {
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host)
                .build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .connectionTimeout(Duration.ofSeconds(5))
                // Image builds stream for minutes; a stuck engine is caught by callers' own deadlines.
                .responseTimeout(Duration.ofMinutes(30))
                .build();
        return new Engine(host, DockerClientImpl.getInstance(config, http));
    }

    public DockerClient client() {
        return client;
    }

    /** Engine version, or an {@link EngineException} that says how to start the engine. */
    public Version version() {
        try {
            client.pingCmd().exec();
            return client.versionCmd().exec();
        } catch (RuntimeException e) {
            throw new EngineException("no container engine answers at " + host
                    + " (start it with scripts/engine-up, or ./hearth demo): " + rootMessage(e), e);
        }
    }

    /** Docker or Podman, asked of the engine once (Podman names itself among the version's components). */
    public Kind kind() {
        Kind known = kind;
        if (known == null) {
            known = kindOf(version());
            kind = known;
        }
        return known;
    }

    /** Docker or Podman, from the engine's answer to a version request. */
    public static Kind kindOf(Version version) {
        List<VersionComponent> components = version.getComponents();
        boolean podman = components != null && components.stream()
                .anyMatch(c -> c.getName() != null && c.getName().startsWith("Podman"));
        return podman ? Kind.PODMAN : Kind.DOCKER;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            // Closing a socket pool cannot lose state; nothing to report.
        }
    }
}
