package org.hearth.core.runtime;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;
import org.hearth.core.network.EdgeFirewall;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@link ContainerRuntime} on the Docker engine, through docker-java. */
public final class DockerRuntime implements ContainerRuntime {

    private static final Set<String> ROOT_USERS = Set.of("", "0", "root", "0:0", "root:root");

    private final DockerClient docker;
    private final Engine engine;
    private final AardvarkDns aardvark = AardvarkDns.onThisHost();

    public DockerRuntime(Engine engine) {
        this.docker = engine.client();
        this.engine = engine;
    }

    @Override
    public String create(ContainerSpec spec) {
        String user = spec.user().orElseGet(() -> imageUser(spec.image()));
        if (ROOT_USERS.contains(user) || user.startsWith("0:") || user.startsWith("root:")) {
            throw new EngineException("refusing to run " + spec.image() + " as root (user \"" + user
                    + "\"): images must set a non-root USER");
        }
        List<Map.Entry<String, List<String>>> networks = new ArrayList<>(spec.networks().entrySet());
        List<Mount> mounts = new ArrayList<>();
        spec.volumes().forEach((folder, path) ->
                mounts.add(new Mount().withType(MountType.BIND).withSource(folder).withTarget(path)));
        spec.secrets().ifPresent(folder -> mounts.add(new Mount().withType(MountType.BIND).withSource(folder)
                .withTarget(ContainerSpec.SECRETS_PATH).withReadOnly(true)));
        // Docker takes a seccomp profile inline; Podman 4 reads the option as a file's path, and keeps
        // the profile in the container's own spec once created, so the file is needed only until then.
        boolean podman = engine.kind() == Engine.Kind.PODMAN;
        Optional<String> profile = spec.sandboxHost() ? Optional.of(SeccompProfiles.SANDBOX_HOST)
                : podman ? Optional.of(SeccompProfiles.podmanContainer()) : Optional.empty();
        Path seccompFile = podman ? profile.map(SeccompProfiles::writeToFile).orElse(null) : null;
        try {
            return create(spec, user, networks, mounts,
                    seccompFile != null ? Optional.of(seccompFile.toString()) : profile);
        } finally {
            if (seccompFile != null) {
                try {
                    Files.deleteIfExists(seccompFile);
                } catch (IOException e) {
                    // A leftover file in /tmp holds only the public profile; nothing to undo.
                }
            }
        }
    }

    private String create(ContainerSpec spec, String user, List<Map.Entry<String, List<String>>> networks,
                          List<Mount> mounts, Optional<String> seccomp) {
        List<String> security = new ArrayList<>(List.of("no-new-privileges:true"));
        seccomp.ifPresent(profile -> security.add("seccomp=" + profile));
        if (spec.sandboxHost()) {
            // A sandbox host's children mount a private /tmp, which the engine's AppArmor profile refuses
            // (docker-default's "deny mount", on a kernel with AppArmor: Debian's on the Pi); its own
            // seccomp filter confines it, as on a kernel without AppArmor (this machine's).
            security.add("apparmor=unconfined");
        }
        HostConfig host = HostConfig.newHostConfig()
                .withReadonlyRootfs(true)
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(security)
                .withPrivileged(false)
                .withMemory(spec.memoryBytes())
                .withMemorySwap(spec.memoryBytes())
                .withPidsLimit(spec.pidsLimit())
                .withTmpFs(spec.tmpfs())
                .withMounts(mounts)
                .withExtraHosts(spec.hosts().entrySet().stream().map(h -> h.getKey() + ":" + h.getValue())
                        .toArray(String[]::new))
                // The engine's resolver knows the app's own names and nothing else (names beyond the box
                // come from the resolver an app declares, by its own client: docs/manifest.md): a lookup it
                // passes upstream can only time out, so fail in a second rather than stall a connection for ten.
                .withDnsOptions(List.of("timeout:1", "attempts:1"))
                // "none" unless networks are named: never the default bridge.
                .withNetworkMode(networks.isEmpty() ? "none" : networks.get(0).getKey());
        List<String> env = new ArrayList<>();
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        var cmd = docker.createContainerCmd(spec.image())
                .withUser(user)
                .withEnv(env)
                .withLabels(spec.labels())
                .withHostConfig(host);
        spec.name().ifPresent(cmd::withName);
        if (!networks.isEmpty() && !networks.get(0).getValue().isEmpty()) {
            cmd.withAliases(networks.get(0).getValue());
        }
        if (!spec.entrypoint().isEmpty()) {
            // Set, it also keeps the image's CMD out: the command below is all the program gets.
            cmd.withEntrypoint(spec.entrypoint());
        }
        if (!spec.command().isEmpty()) {
            cmd.withCmd(spec.command());
        }
        String id;
        try {
            id = cmd.exec().getId();
        } catch (NotFoundException e) {
            throw new EngineException("image " + spec.image() + " is not built here (run: hearth images build)", e);
        }
        try {
            for (Map.Entry<String, List<String>> network : networks.subList(Math.min(1, networks.size()), networks.size())) {
                docker.connectToNetworkCmd().withContainerId(id).withNetworkId(network.getKey())
                        .withContainerNetwork(new ContainerNetwork().withAliases(network.getValue())).exec();
            }
        } catch (RuntimeException e) {
            remove(id);
            throw new EngineException("cannot attach " + spec.name().orElse(id) + " to its networks: " + e.getMessage(), e);
        }
        return id;
    }

    private String imageUser(String image) {
        try {
            InspectImageResponse inspect = docker.inspectImageCmd(image).exec();
            String user = inspect.getConfig() == null ? null : inspect.getConfig().getUser();
            return user == null ? "" : user;
        } catch (NotFoundException e) {
            throw new EngineException("image " + image + " is not built here (run: hearth images build)", e);
        }
    }

    @Override
    public void start(String containerId) {
        docker.startContainerCmd(containerId).exec();
        if (engine.kind() == Engine.Kind.PODMAN) {
            // The container's start may have started Podman's network resolver: one that passes names on
            // gets no container to ask it.
            try {
                aardvark.check();
            } catch (EngineException forwarding) {
                try {
                    remove(containerId);
                } catch (RuntimeException alsoFailed) {
                    forwarding.addSuppressed(alsoFailed);
                }
                throw forwarding;
            }
        }
    }

    @Override
    public int awaitExit(String containerId, Duration timeout) {
        Integer code = docker.waitContainerCmd(containerId)
                .exec(new WaitContainerResultCallback())
                .awaitStatusCode(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return code;
    }

    @Override
    public Output output(String containerId) {
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        try {
            docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            String text = new String(frame.getPayload(), StandardCharsets.UTF_8);
                            (frame.getStreamType() == StreamType.STDERR ? err : out).append(text);
                        }
                    })
                    .awaitCompletion(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while reading logs of " + containerId, e);
        }
        return new Output(out.toString(), err.toString());
    }

    @Override
    public String logsSince(String containerId, Instant since) {
        StringBuilder all = new StringBuilder();
        try {
            docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true)
                    .withSince((int) since.getEpochSecond())
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            all.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                        }
                    })
                    .awaitCompletion(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while reading logs of " + containerId, e);
        } catch (NotFoundException e) {
            return "";
        }
        return all.toString();
    }

    @Override
    public void remove(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (DockerException e) {
            if (!gone(e)) {
                throw e;
            }
            // Already gone: removal is idempotent.
        }
    }

    @Override
    public void stop(String containerId, Duration grace) {
        try {
            docker.stopContainerCmd(containerId).withTimeout((int) Math.max(1, grace.toSeconds())).exec();
        } catch (NotModifiedException e) {
            // Already stopped: stopping is idempotent.
        } catch (DockerException e) {
            if (!gone(e)) {
                throw e;
            }
        }
    }

    /**
     * Whether the engine says the container does not exist: Docker answers 404; Podman answers 500
     * "no such container" about one removed while it was being asked about.
     */
    private static boolean gone(DockerException e) {
        return e instanceof NotFoundException
                || (e.getHttpStatus() == 500 && String.valueOf(e.getMessage()).contains("no such container"));
    }

    @Override
    public List<ContainerInfo> containers(Map<String, String> labels) {
        List<ContainerInfo> out = new ArrayList<>();
        for (Container c : docker.listContainersCmd().withShowAll(true).withLabelFilter(labels).exec()) {
            container(c.getId()).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public Optional<ContainerInfo> container(String containerId) {
        InspectContainerResponse c;
        try {
            c = docker.inspectContainerCmd(containerId).exec();
        } catch (DockerException e) {
            if (gone(e)) {
                return Optional.empty();
            }
            throw e;
        }
        var state = c.getState();
        boolean running = Boolean.TRUE.equals(state.getRunning());
        Map<String, String> addresses = new LinkedHashMap<>();
        if (c.getNetworkSettings() != null && c.getNetworkSettings().getNetworks() != null) {
            c.getNetworkSettings().getNetworks().forEach((name, net) -> {
                if (net.getIpAddress() != null && !net.getIpAddress().isEmpty()) {
                    addresses.put(name, net.getIpAddress());
                }
            });
        }
        Optional<Instant> started = Optional.ofNullable(state.getStartedAt())
                .filter(t -> !t.startsWith("0001-"))
                .map(Instant::parse);
        Map<String, String> labels = c.getConfig().getLabels() == null ? Map.of() : c.getConfig().getLabels();
        return Optional.of(new ContainerInfo(c.getId(), c.getName().replaceFirst("^/", ""), c.getImageId(), labels,
                running, running || state.getExitCodeLong() == null ? Optional.empty()
                : Optional.of(state.getExitCodeLong().intValue()), started, addresses));
    }

    @Override
    public Run exec(String containerId, List<String> command, byte[] stdin, Duration timeout) {
        String execId = docker.execCreateCmd(containerId).withCmd(command.toArray(String[]::new))
                .withAttachStdin(stdin.length > 0).withAttachStdout(true).withAttachStderr(true).exec().getId();
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        try {
            var start = docker.execStartCmd(execId);
            if (stdin.length > 0) {
                start.withStdIn(new ByteArrayInputStream(stdin));
            }
            boolean done = start.exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    String text = new String(frame.getPayload(), StandardCharsets.UTF_8);
                    (frame.getStreamType() == StreamType.STDERR ? err : out).append(text);
                }
            }).awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                throw new EngineException("command in " + containerId + " did not finish within " + timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while running a command in " + containerId, e);
        }
        Long code = docker.inspectExecCmd(execId).exec().getExitCodeLong();
        return new Run(containerId, code == null ? -1 : code.intValue(), new Output(out.toString(), err.toString()));
    }

    @Override
    public Optional<String> imageId(String image) {
        try {
            return Optional.of(docker.inspectImageCmd(image).exec().getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    @Override
    public EngineNetwork ensureNetwork(String name, Map<String, String> labels, boolean internal) {
        boolean podman = engine.kind() == Engine.Kind.PODMAN;
        // Docker names a bridge after its network's id; Podman would number them (podman1, ...), which
        // nothing ties to the network, so Hearth names each after the network's name (15 characters at most).
        String podmanBridge = podman ? EdgeFirewall.PODMAN_BRIDGE_PREFIX + HexFormat.of().formatHex(sha256(name), 0, 6) : null;
        for (Network n : docker.listNetworksCmd().withNameFilter(name).exec()) {
            if (n.getName().equals(name)) {
                return new EngineNetwork(n.getId(), podman ? podmanBridge : dockerBridge(n.getId()));
            }
        }
        var create = docker.createNetworkCmd().withName(name).withDriver("bridge").withInternal(internal)
                .withLabels(labels).withCheckDuplicate(true);
        if (podman) {
            create.withOptions(Map.of("com.docker.network.bridge.name", podmanBridge));
        }
        String id = create.exec().getId();
        return new EngineNetwork(id, podman ? podmanBridge : dockerBridge(id));
    }

    private static String dockerBridge(String networkId) {
        return "br-" + networkId.substring(0, 12);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }

    @Override
    public Engine.Kind engineKind() {
        return engine.kind();
    }

    @Override
    public Optional<String> gateway(String networkId) {
        try {
            var ipam = docker.inspectNetworkCmd().withNetworkId(networkId).exec().getIpam();
            return ipam == null || ipam.getConfig() == null ? Optional.empty()
                    : ipam.getConfig().stream().map(c -> c.getGateway()).filter(g -> g != null && !g.isEmpty()).findFirst();
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<NetworkInfo> networks(Map<String, String> labels) {
        List<NetworkInfo> out = new ArrayList<>();
        for (Network n : docker.listNetworksCmd().withFilter("label", labelFilter(labels)).exec()) {
            out.add(new NetworkInfo(n.getId(), n.getName(), n.getLabels() == null ? Map.of() : n.getLabels(),
                    Boolean.TRUE.equals(n.getInternal())));
        }
        return out;
    }

    @Override
    public void removeNetwork(String nameOrId) {
        try {
            docker.removeNetworkCmd(nameOrId).exec();
        } catch (NotFoundException e) {
            // Already gone.
        }
    }

    /** The engine's label filter: every {@code key=value} must match. */
    private static List<String> labelFilter(Map<String, String> labels) {
        List<String> filter = new ArrayList<>();
        labels.forEach((k, v) -> filter.add(k + "=" + v));
        return filter;
    }
}
