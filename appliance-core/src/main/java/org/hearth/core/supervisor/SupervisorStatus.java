package org.hearth.core.supervisor;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;

import org.hearth.core.ephemeral.PoolStatus;
import org.hearth.core.ephemeral.SandboxCounts;
import org.hearth.core.overlay.OverlayProvider;
import org.hearth.core.overlay.OverlayState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the supervisor last saw, written to {@code state/status.json} after every reconcile pass
 * and read by {@code hearth status} and {@code hearth app install}.
 */
public record SupervisorStatus(boolean running, long pid, String updatedAt, String publicAddress, Overlay overlay,
                               Storage storage, List<App> apps, List<String> problems) {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new Jdk8Module())
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** @param problems the pass's own steps that failed (orphans, listeners), each with its cause; apps carry theirs */
    public SupervisorStatus {
        apps = List.copyOf(apps);
        problems = problems == null ? List.of() : List.copyOf(problems);
    }

    /** An app as a whole, in the order of how much it needs the owner. */
    public enum AppState {
        /** Waiting for hearth unlock. */
        LOCKED,
        /** Cannot be applied (a step of the pass failed), or a container is crash-looping. */
        FAILING,
        /** A container is unhealthy or stopped. */
        DEGRADED,
        STARTING,
        /** Every container healthy. */
        HEALTHY;

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return label();
        }

        /** The app's state from its containers' health. */
        static AppState of(List<Container> containers) {
            if (containers.stream().anyMatch(c -> c.health() == Health.LOCKED)) {
                return LOCKED;
            }
            // An unhealthy container's problem is its check's answer: that app is degraded, not failing.
            if (containers.stream().anyMatch(c -> (c.problem().isPresent() && c.health() != Health.UNHEALTHY)
                    || c.health() == Health.CRASH_LOOPING)) {
                return FAILING;
            }
            // A service stopped for being idle is as ready as a running one: its next connection starts it.
            if (containers.stream().allMatch(c -> c.health() == Health.HEALTHY || c.health() == Health.ASLEEP)) {
                return HEALTHY;
            }
            if (containers.stream().anyMatch(c -> c.health() == Health.UNHEALTHY || !c.running() && c.health() != Health.ASLEEP)) {
                return DEGRADED;
            }
            return STARTING;
        }
    }

    /** One container's (or an ephemeral role's pool's) health. */
    public enum Health {
        HEALTHY, STARTING, UNHEALTHY, STOPPED,
        /** Restarted more than {@link RestartBackoff#CRASH_LOOP} times in ten minutes. */
        CRASH_LOOPING,
        /** It has volumes and storage is locked. */
        LOCKED,
        /** An ephemeral role whose pool cannot start containers. */
        FAILING,
        /** Stopped for being idle (manifest {@code stop-when-idle}); its next connection starts it. */
        ASLEEP;

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /**
     * @param address empty while the overlay is down: private ports are closed then
     * @param device  the host interface carrying it
     * @param network the overlay's prefix
     * @param problem why it is down
     * @param details provider facts (endpoint, devices, node id)
     */
    public record Overlay(String provider, Optional<String> address, boolean developmentOnly, Optional<String> device,
                          Optional<String> network, Optional<String> problem, Map<String, String> details) {

        static Overlay of(OverlayProvider provider, OverlayState state) {
            return new Overlay(provider.name(), state.address().map(InetAddress::getHostAddress),
                    provider.developmentOnly(), state.device(), state.network(), state.problem(), state.details());
        }
    }

    /**
     * @param backend       {@code luks2}, {@code fscrypt}, {@code plain} (development only, unencrypted) or
     *                      {@code none} (no encrypted storage here: apps with volumes cannot run)
     * @param locked        the master key is not in memory: containers with volumes do not run
     * @param passphraseSet whether the owner has set a passphrase (the first unlock sets it)
     */
    public record Storage(String backend, boolean encrypted, boolean locked, boolean passphraseSet) {
    }

    /**
     * @param problem why it is failing when the app as a whole is: which step of the supervisor's pass failed and
     *                its cause (e.g. {@code step services (container imap) failed: ...}); a container's own problem
     *                is on the container
     */
    public record App(String app, String version, AppState state, Optional<String> problem,
                      List<Container> containers, List<Endpoint> endpoints, List<Quarantined> quarantine) {
        public App {
            containers = List.copyOf(containers);
            endpoints = List.copyOf(endpoints);
            quarantine = quarantine == null ? List.of() : List.copyOf(quarantine);
        }

        public App(String app, String version, AppState state, Optional<String> problem,
                   List<Container> containers, List<Endpoint> endpoints) {
            this(app, version, state, problem, containers, endpoints, List.of());
        }
    }

    /**
     * An item an app set aside for its owner on one of its volumes (the mail store: a message that
     * kept failing delivery), see {@code QuarantineShelf}.
     *
     * @param at      when it was set aside (ISO-8601), as the app wrote it
     * @param details what the app wrote about it (for mail: recipient, messageId, errorClass, failures, message)
     */
    public record Quarantined(String volume, String id, String at, Map<String, String> details) {
    }

    /**
     * @param health for an ephemeral role, {@code healthy} means its pool can hand out containers
     * @param id     empty for an ephemeral role: it has a pool of short-lived containers instead
     * @param pool   the warm pool of a per-connection or per-message role
     * @param report the facts the container reports on its manifest's {@code report} port (mail's queue, say)
     */
    public record Container(String name, String id, String image, String lifecycle, boolean running, Health health,
                            int restarts, Optional<String> problem, Optional<PoolStatus> pool,
                            Optional<SandboxCounts> sandboxes, Map<String, String> report) {
        public Container {
            report = report == null ? Map.of() : Map.copyOf(report);
        }

        public Container(String name, String id, String image, String lifecycle, boolean running, Health health,
                         int restarts, Optional<String> problem, Optional<PoolStatus> pool) {
            this(name, id, image, lifecycle, running, health, restarts, problem, pool, Optional.empty(), Map.of());
        }
    }

    /**
     * @param open        whether the listener is accepting now; closed private endpoints mean the overlay is down
     * @param connections connections accepted since the supervisor started
     * @param refused     of those, closed at once: no running container to hand them to, or too many at a time
     */
    public record Endpoint(String container, String port, String exposure, String address, int listen, boolean open,
                           long connections, long refused, Optional<String> problem) {
    }

    /** The same status, as seen by someone who knows whether its writer still runs. */
    public SupervisorStatus withRunning(boolean alive) {
        return new SupervisorStatus(alive, pid, updatedAt, publicAddress, overlay, storage, apps, problems);
    }

    public Optional<App> app(String name) {
        return apps.stream().filter(a -> a.app().equals(name)).findFirst();
    }

    public void writeTo(Path file) {
        try {
            Path tmp = Files.createTempFile(file.getParent(), ".status", ".tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static Optional<SupervisorStatus> readFrom(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), SupervisorStatus.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
