package org.hearth.core.manifest;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One app as its manifest declares it, after validation. Field meanings: docs/manifest.md;
 * the machine-readable schema is {@code app-manifest.schema.json} beside this class.
 */
public record AppManifest(int schema, String app, String version, Optional<String> description,
                          Map<String, Container> containers, List<DnsRecord> dns, Map<String, Admin> admin,
                          Optional<Migrate> migrate) {

    public AppManifest {
        containers = Collections.unmodifiableMap(new LinkedHashMap<>(containers));
        dns = dns == null ? List.of() : List.copyOf(dns);
        admin = admin == null ? Map.of() : Map.copyOf(admin);
    }

    /** An admin command: {@code hearth app admin APP NOUN ARGS...} runs {@code command ARGS...} in {@code container}. */
    public record Admin(String container, List<String> command) {
        public Admin {
            command = List.copyOf(command);
        }
    }

    /**
     * How container {@code name} takes over from its predecessor: as declared, else beside when it has
     * no volumes (one writer each) and no peer reaches it by name (both would answer to it).
     */
    public Rollout rolloutOf(String name) {
        Container c = containers.get(name);
        boolean reachedByPeers = containers.values().stream().anyMatch(o -> o.edges().stream().anyMatch(e -> e.to().equals(name)));
        return c.rollout().orElse(c.volumes().isEmpty() && !reachedByPeers ? Rollout.BESIDE : Rollout.REPLACE);
    }

    /**
     * An upgrade's data migration: after the old version's volumes are copied aside, {@code command}
     * runs once in a one-off copy of the new version's {@code container} (its image, environment and
     * volumes; no network), and must exit 0 within {@code timeout}, or the upgrade is rolled back.
     */
    public record Migrate(String container, List<String> command, Optional<String> timeout) {
        public Migrate {
            command = List.copyOf(command);
        }

        public Duration timeoutOrDefault() {
            return timeout.map(AppManifest::duration).orElse(Duration.ofMinutes(5));
        }
    }

    /** How a service container's new spec (an upgrade, a changed certificate) takes over from the running one. */
    public enum Rollout {
        /** The new container starts beside the old, which serves until the new one is healthy. */
        @JsonProperty("beside") BESIDE,
        /** The old container stops first: a volume has one writer at a time. */
        @JsonProperty("replace") REPLACE
    }

    public enum Lifecycle {
        @JsonProperty("service") SERVICE,
        @JsonProperty("per-connection") PER_CONNECTION,
        @JsonProperty("per-message") PER_MESSAGE
    }

    /** How a per-connection or per-message role gives each use a place of its own. */
    public enum Isolation {
        /** A fresh container per use, from a warm pool the supervisor keeps. */
        @JsonProperty("container") CONTAINER,
        /** One long-lived sandbox host that serves each use in a fresh sandbox it forks (docs/sandbox.md). */
        @JsonProperty("sandbox") SANDBOX
    }

    public enum Exposure {
        /** Listens on the public address (the internet side). */
        @JsonProperty("public") PUBLIC,
        /** Listens only on the owner's overlay address. */
        @JsonProperty("private") PRIVATE,
        /** Reachable only by containers with a declared edge to it. */
        @JsonProperty("internal") INTERNAL
    }

    public record Container(String image, Lifecycle lifecycle, List<String> command, Map<String, String> environment,
                            List<Port> ports, List<Edge> edges, List<Volume> volumes, Optional<Resources> resources,
                            Optional<Health> health, Optional<Pool> pool, List<Egress> egress,
                            Optional<Isolation> isolation, Optional<Integer> sandboxes, Optional<String> report,
                            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> certificate,
                            Optional<Rollout> rollout, @JsonProperty("stop-when-idle") Optional<String> stopWhenIdle) {
        public Container {
            certificate = certificate == null ? List.of() : List.copyOf(certificate);
            command = command == null ? List.of() : List.copyOf(command);
            environment = environment == null ? Map.of() : Map.copyOf(environment);
            ports = ports == null ? List.of() : List.copyOf(ports);
            edges = edges == null ? List.of() : List.copyOf(edges);
            volumes = volumes == null ? List.of() : List.copyOf(volumes);
            egress = egress == null ? List.of() : List.copyOf(egress);
        }

        public Optional<Port> port(String name) {
            return ports.stream().filter(p -> p.name().equals(name)).findFirst();
        }

        public long memoryBytes() {
            return resources.flatMap(Resources::memory).map(AppManifest::bytes).orElse(128L << 20);
        }

        public long pids() {
            return resources.flatMap(Resources::pids).orElse(64);
        }

        /** A fresh container per connection or message, from a warm pool. */
        public boolean containerPerUse() {
            return lifecycle != Lifecycle.SERVICE && isolation.orElse(Isolation.CONTAINER) == Isolation.CONTAINER;
        }

        /** One long-lived container that forks a fresh sandbox per connection or message. */
        public boolean sandboxHost() {
            return lifecycle != Lifecycle.SERVICE && isolation.orElse(Isolation.CONTAINER) == Isolation.SANDBOX;
        }

        /** Most sandboxes a sandbox host may have alive at once. */
        public int sandboxesOrDefault() {
            return sandboxes.orElse(2);
        }

        /**
         * How long a service may go without a connection through its listeners before it is stopped, to
         * start again at the next one; empty for one that always runs.
         */
        public Optional<Duration> idleStop() {
            return stopWhenIdle.map(AppManifest::duration);
        }

        /** The pool of an ephemeral container, with defaults for what the manifest leaves out. */
        public Pool poolOrDefault() {
            return pool.orElse(new Pool(Optional.empty(), Optional.empty(), Optional.empty()));
        }
    }

    /**
     * @param listen   the host port of the edge listener (public and private ports only)
     * @param protocol what the listener may say when it turns a connection away; plain TCP just closes
     * @param overlay  a public port that also listens on the owner's overlay address (public ports only)
     * @param proxyProtocol the edge listener starts each connection to the container with a PROXY v2 header
     * @param perClient most connections one client address may have open at once on the listener
     */
    public record Port(String name, int port, Exposure exposure, Optional<Integer> listen, Optional<Protocol> protocol,
                       Optional<Boolean> overlay, @JsonProperty("proxy-protocol") Optional<Boolean> proxyProtocol,
                       @JsonProperty("per-client") Optional<Integer> perClient) {
        /** Whether the edge listener also listens on the overlay address; the manifest must say so. */
        public boolean alsoOnOverlay() {
            return exposure == Exposure.PUBLIC && overlay.orElse(false);
        }

        /** Whether the edge listener tells the container who the client is (PROXY protocol v2). */
        public boolean sendsProxyHeader() {
            return proxyProtocol.orElse(false);
        }
    }

    public enum Protocol {
        @JsonProperty("tcp") TCP,
        @JsonProperty("smtp") SMTP
    }

    /**
     * Fresh containers kept ready for an ephemeral role.
     *
     * @param warm    started, never-used containers kept waiting (default 2)
     * @param ceiling most containers of the role alive at once, in use or warm (default 8)
     * @param maxWait how long a connection waits for a container when none is warm (default 10s)
     */
    public record Pool(Optional<Integer> warm, Optional<Integer> ceiling, @JsonProperty("wait") Optional<String> maxWait) {
        public int warmOrDefault() {
            return warm.orElse(Math.min(2, ceilingOrDefault()));
        }

        public int ceilingOrDefault() {
            return ceiling.orElse(8);
        }

        public Duration waitOrDefault() {
            return maxWait.map(AppManifest::duration).orElse(Duration.ofSeconds(10));
        }
    }

    /** The declaring container may connect to {@code to}'s port named {@code port}. */
    public record Edge(String to, String port) {
    }

    public record Volume(String name, String path, String size) {
        public long sizeBytes() {
            return bytes(size);
        }
    }

    public record Resources(Optional<String> memory, Optional<Integer> pids) {
    }

    public record Health(Optional<String> tcp, List<String> command, Optional<String> log,
                         Optional<String> interval, Optional<String> timeout, Optional<Integer> retries,
                         @JsonProperty("start-period") Optional<String> startPeriod) {
        public Health {
            command = command == null ? List.of() : List.copyOf(command);
        }

        public Duration intervalOrDefault() {
            return interval.map(AppManifest::duration).orElse(Duration.ofSeconds(2));
        }

        public Duration timeoutOrDefault() {
            return timeout.map(AppManifest::duration).orElse(Duration.ofSeconds(2));
        }

        public int retriesOrDefault() {
            return retries.orElse(3);
        }

        public Duration startPeriodOrDefault() {
            return startPeriod.map(AppManifest::duration).orElse(Duration.ofSeconds(60));
        }
    }

    /**
     * @param to    {@link #INTERNET} (any address beyond the appliance, on {@code ports}),
     *              {@link #RESOLVER} (the DNS resolver appliance.yaml names, port 53) or {@link #RELAY}
     *              (the smarthost appliance.yaml names, if any: its address, port and login, no ports here)
     */
    public record Egress(String to, List<Integer> ports) {
        public static final String INTERNET = "internet";
        public static final String RESOLVER = "resolver";
        public static final String RELAY = "relay";

        public Egress {
            ports = ports == null ? List.of() : List.copyOf(ports);
        }
    }

    public record DnsRecord(String type, String name, String value, Optional<Integer> ttl) {
    }

    /** "64MiB" to bytes; the schema has checked the form. */
    static long bytes(String size) {
        long n = Long.parseLong(size.replaceAll("\\D", ""));
        return size.endsWith("GiB") ? n << 30 : size.endsWith("MiB") ? n << 20 : n << 10;
    }

    /** "500ms", "2s", "1m"; the schema has checked the form. */
    static Duration duration(String text) {
        long n = Long.parseLong(text.replaceAll("\\D", ""));
        return text.endsWith("ms") ? Duration.ofMillis(n) : text.endsWith("m") ? Duration.ofMinutes(n) : Duration.ofSeconds(n);
    }
}
