package org.hearth.core.runtime;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The container engine as Hearth needs it. Every container it creates is hardened. */
public interface ContainerRuntime {

    /** Creates (does not start) a hardened container; refuses images or users that would run as root. */
    String create(ContainerSpec spec);

    void start(String containerId);

    /** Asks the container to stop, then kills it after {@code grace}. */
    void stop(String containerId, Duration grace);

    /** Waits for the container to exit and returns its exit code. */
    int awaitExit(String containerId, Duration timeout);

    /** Standard output and standard error, as separate strings. */
    Output output(String containerId);

    /** Standard output and error together, from {@code since} on (so a restart does not see old lines). */
    String logsSince(String containerId, Instant since);

    /** Removes the container, its anonymous volumes and its tmpfs; absent containers are fine. */
    void remove(String containerId);

    /** Containers (running or not) carrying all of {@code labels}. */
    List<ContainerInfo> containers(Map<String, String> labels);

    Optional<ContainerInfo> container(String containerId);

    /** Runs a command inside a running container, as its own user, with {@code stdin} as its input. */
    Run exec(String containerId, List<String> command, byte[] stdin, Duration timeout);

    default Run exec(String containerId, List<String> command, Duration timeout) {
        return exec(containerId, command, new byte[0], timeout);
    }

    /** The engine's id of an image tag, if it is built here. */
    Optional<String> imageId(String image);

    /**
     * Creates a network unless one with that name exists: internal (no route beyond its members),
     * or routed (the engine masquerades its traffic out; only for egress the firewall narrows).
     */
    EngineNetwork ensureNetwork(String name, Map<String, String> labels, boolean internal);

    /** Docker or Podman: the firewall narrows each one's own rules. */
    Engine.Kind engineKind();

    List<NetworkInfo> networks(Map<String, String> labels);

    /** The host's own address on a network (its gateway), where the edge listener's connections come from. */
    Optional<String> gateway(String networkId);

    void removeNetwork(String nameOrId);

    record Output(String stdout, String stderr) {
    }

    record Run(String containerId, int exitCode, Output output) {
    }

    /**
     * @param addresses the container's IPv4 address on each network it is attached to
     */
    record ContainerInfo(String id, String name, String imageId, Map<String, String> labels, boolean running,
                         Optional<Integer> exitCode, Optional<Instant> startedAt, Map<String, String> addresses) {
    }

    /** A network: the engine's id, and the bridge interface on the host that carries it. */
    record EngineNetwork(String id, String bridge) {
    }

    record NetworkInfo(String id, String name, Map<String, String> labels, boolean internal) {
    }

    /** Runs a container to completion and removes it. */
    default Run run(ContainerSpec spec, Duration timeout) {
        String id = create(spec);
        try {
            start(id);
            int code = awaitExit(id, timeout);
            return new Run(id, code, output(id));
        } finally {
            remove(id);
        }
    }
}
