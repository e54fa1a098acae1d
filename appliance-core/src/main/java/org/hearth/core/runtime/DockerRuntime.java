package org.hearth.core.runtime;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@link ContainerRuntime} on the Docker engine, through docker-java. */
public final class DockerRuntime implements ContainerRuntime {

    private static final Set<String> ROOT_USERS = Set.of("", "0", "root", "0:0", "root:root");

    private final DockerClient docker;

    public DockerRuntime(Engine engine) {
        this.docker = engine.client();
    }

    @Override
    public String create(ContainerSpec spec) {
        String user = spec.user().orElseGet(() -> imageUser(spec.image()));
        if (ROOT_USERS.contains(user) || user.startsWith("0:") || user.startsWith("root:")) {
            throw new EngineException("refusing to run " + spec.image() + " as root (user \"" + user
                    + "\"): images must set a non-root USER");
        }
        HostConfig host = HostConfig.newHostConfig()
                .withReadonlyRootfs(true)
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges:true"))
                .withPrivileged(false)
                .withMemory(spec.memoryBytes())
                .withMemorySwap(spec.memoryBytes())
                .withPidsLimit(spec.pidsLimit())
                .withTmpFs(spec.tmpfs())
                // "none" unless a network is named: never the default bridge.
                .withNetworkMode(spec.network().orElse("none"));
        List<String> env = new ArrayList<>();
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        var cmd = docker.createContainerCmd(spec.image())
                .withUser(user)
                .withEnv(env)
                .withLabels(spec.labels())
                .withHostConfig(host);
        if (!spec.command().isEmpty()) {
            cmd.withCmd(spec.command());
        }
        try {
            return cmd.exec().getId();
        } catch (NotFoundException e) {
            throw new EngineException("image " + spec.image() + " is not built here (run: hearth images build)", e);
        }
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
    public void remove(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
            // Already gone: removal is idempotent.
        }
    }
}
