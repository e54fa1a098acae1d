package org.hearth.core.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to run. Only what a manifest may ask for lives here: the hardening (read-only root,
 * no capabilities, no-new-privileges, non-root, no host paths, no engine socket) is applied by
 * the runtime and cannot be switched off from a spec.
 *
 * @param user        overrides the image's user; never root
 * @param network     the one engine network to attach at creation, empty for none at all
 * @param tmpfs       scratch mounts: path to mount options
 */
public record ContainerSpec(
        String image,
        List<String> command,
        Optional<String> user,
        Map<String, String> env,
        Map<String, String> labels,
        long memoryBytes,
        long pidsLimit,
        Map<String, String> tmpfs,
        Optional<String> network) {

    public static final long DEFAULT_MEMORY = 128L << 20;
    public static final long DEFAULT_PIDS = 64;

    public ContainerSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
        tmpfs = Map.copyOf(tmpfs);
        if (memoryBytes <= 0 || pidsLimit <= 0) {
            throw new IllegalArgumentException("memory and pid limits must be positive");
        }
    }

    /** A spec with Hearth's defaults: 128 MiB, 64 pids, a 16 MiB non-executable /tmp, no network. */
    public static ContainerSpec of(String image, String... command) {
        return new ContainerSpec(image, List.of(command), Optional.empty(), Map.of(),
                Map.of(HearthLabels.MANAGED, "true"), DEFAULT_MEMORY, DEFAULT_PIDS,
                Map.of("/tmp", "rw,nosuid,nodev,noexec,size=16m,mode=1777"), Optional.empty());
    }

    public ContainerSpec withLabel(String key, String value) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.put(key, value);
        return new ContainerSpec(image, command, user, env, all, memoryBytes, pidsLimit, tmpfs, network);
    }

    public ContainerSpec withUser(String newUser) {
        return new ContainerSpec(image, command, Optional.of(newUser), env, labels, memoryBytes, pidsLimit, tmpfs, network);
    }

    public ContainerSpec withEnv(String key, String value) {
        Map<String, String> all = new LinkedHashMap<>(env);
        all.put(key, value);
        return new ContainerSpec(image, command, user, all, labels, memoryBytes, pidsLimit, tmpfs, network);
    }

    public ContainerSpec withLimits(long newMemoryBytes, long newPidsLimit) {
        return new ContainerSpec(image, command, user, env, labels, newMemoryBytes, newPidsLimit, tmpfs, network);
    }

    public ContainerSpec withNetwork(String newNetwork) {
        return new ContainerSpec(image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, Optional.of(newNetwork));
    }
}
