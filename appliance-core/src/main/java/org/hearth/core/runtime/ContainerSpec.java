package org.hearth.core.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to run. Only what a manifest may ask for lives here: the hardening (read-only root,
 * no capabilities, no-new-privileges, non-root, no host paths, no engine socket) is applied by
 * the runtime and cannot be switched off from a spec. Host folders appear only as volumes, and
 * only the supervisor names them: a manifest declares a volume, never a host path.
 *
 * @param name     the engine's name for the container, if it should have one
 * @param user     overrides the image's user; never root
 * @param networks engine networks to attach, each with the aliases peers know it by; none means no network at all
 * @param volumes  an open volume's data folder on the host (from the storage backend) to its mount path
 * @param tmpfs    scratch mounts: path to mount options
 * @param hosts    extra /etc/hosts entries, name to address
 * @param sandboxHost the container forks a sandbox per use: the runtime lets it create user, mount,
 *                 pid, ipc, uts and network namespaces ({@link SeccompProfiles}) and nothing more
 * @param entrypoint replaces the image's entrypoint, so {@code command} is a program of the image's own
 *                 rather than arguments to its server (a one-off step); empty: the image's
 * @param secrets  a host folder in memory (never on disk) the supervisor filled with what this container
 *                 may know, mounted read-only at {@link #SECRETS_PATH}
 */
public record ContainerSpec(
        Optional<String> name,
        String image,
        List<String> command,
        Optional<String> user,
        Map<String, String> env,
        Map<String, String> labels,
        long memoryBytes,
        long pidsLimit,
        Map<String, String> tmpfs,
        Map<String, List<String>> networks,
        Map<String, String> volumes,
        Map<String, String> hosts,
        boolean sandboxHost,
        @JsonInclude(JsonInclude.Include.NON_ABSENT) Optional<String> secrets,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> entrypoint) {

    public static final long DEFAULT_MEMORY = 128L << 20;
    public static final long DEFAULT_PIDS = 64;
    public static final String SECRETS_PATH = "/run/secrets";

    public ContainerSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
        tmpfs = Map.copyOf(tmpfs);
        networks = Map.copyOf(networks);
        volumes = Map.copyOf(volumes);
        hosts = Map.copyOf(hosts);
        secrets = secrets == null ? Optional.empty() : secrets;
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
        if (memoryBytes <= 0 || pidsLimit <= 0) {
            throw new IllegalArgumentException("memory and pid limits must be positive");
        }
    }

    /** A spec with Hearth's defaults: 128 MiB, 64 pids, a 16 MiB non-executable /tmp, no network. */
    public static ContainerSpec of(String image, String... command) {
        return new ContainerSpec(Optional.empty(), image, List.of(command), Optional.empty(), Map.of(),
                Map.of(HearthLabels.MANAGED, "true"), DEFAULT_MEMORY, DEFAULT_PIDS,
                Map.of("/tmp", "rw,nosuid,nodev,noexec,size=16m,mode=1777"), Map.of(), Map.of(), Map.of(), false, Optional.empty(), List.of());
    }

    /** Runs {@code argv} itself, the image's entrypoint set aside: a program of the image, not its server's arguments. */
    public ContainerSpec runningProgram(List<String> argv) {
        return new ContainerSpec(name, image, argv.subList(1, argv.size()), user, env, labels, memoryBytes, pidsLimit, tmpfs, networks,
                volumes, hosts, sandboxHost, secrets, List.of(argv.get(0)));
    }

    public ContainerSpec withName(String newName) {
        return new ContainerSpec(Optional.of(newName), image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withCommand(List<String> newCommand) {
        return new ContainerSpec(name, image, newCommand, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withLabel(String key, String value) {
        return withLabels(Map.of(key, value));
    }

    public ContainerSpec withLabels(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.putAll(more);
        return new ContainerSpec(name, image, command, user, env, all, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withUser(String newUser) {
        return new ContainerSpec(name, image, command, Optional.of(newUser), env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withEnv(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(env);
        all.putAll(more);
        return new ContainerSpec(name, image, command, user, all, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withLimits(long newMemoryBytes, long newPidsLimit) {
        return new ContainerSpec(name, image, command, user, env, labels, newMemoryBytes, newPidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withNetwork(String network, String... aliases) {
        Map<String, List<String>> all = new LinkedHashMap<>(networks);
        all.put(network, List.of(aliases));
        return new ContainerSpec(name, image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, all, volumes, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withHost(String hostname, String address) {
        Map<String, String> all = new LinkedHashMap<>(hosts);
        all.put(hostname, address);
        return new ContainerSpec(name, image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, all, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withVolume(String dataFolder, String path) {
        Map<String, String> all = new LinkedHashMap<>(volumes);
        all.put(dataFolder, path);
        return new ContainerSpec(name, image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, all, hosts, sandboxHost, secrets, entrypoint);
    }

    public ContainerSpec withSandboxHost() {
        return new ContainerSpec(name, image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, true, secrets, entrypoint);
    }

    public ContainerSpec withSecrets(String hostFolder) {
        return new ContainerSpec(name, image, command, user, env, labels, memoryBytes, pidsLimit, tmpfs, networks, volumes, hosts, sandboxHost, Optional.of(hostFolder), entrypoint);
    }
}
