package org.hearth.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules a schema cannot say: what lifecycles may serve, where edges may point, which host
 * ports clash, and that nothing privileged is ever asked for. Works on the raw tree so it can
 * report alongside schema problems rather than after them.
 */
final class ManifestRules {

    /** Keys that would weaken the hardening; named specially rather than as merely "unknown". */
    private static final Set<String> PRIVILEGED = Set.of(
            "privileged", "user", "network", "network-mode", "network_mode", "host-network", "hostnetwork",
            "pid", "pid-mode", "ipc", "userns", "uts", "devices", "device", "cap-add", "cap_add", "capabilities",
            "security-opt", "security_opt", "sysctls", "binds", "mounts", "bind", "host-path", "source",
            "read-only", "tmpfs", "runtime");
    private static final String PRIVILEGED_WORDS = "never allowed: Hearth runs every container non-root, on a"
            + " read-only root, with no capabilities, no host paths and only its declared networks";
    private static final Set<String> SYSTEM_PATHS = Set.of("/", "/proc", "/sys", "/dev", "/etc", "/bin", "/usr", "/lib", "/tmp");

    private ManifestRules() {
    }

    /** Reports privileged keys in containers and volumes; returns their paths so schema noise about them is dropped. */
    static Set<List<String>> privilegedKeys(JsonNode tree, ManifestReader.Locator at) {
        Set<List<String>> found = new HashSet<>();
        ManifestReader.fields(tree.get("containers")).forEachRemaining(c -> {
            if (!c.getValue().isObject()) {
                return;
            }
            c.getValue().fieldNames().forEachRemaining(key -> {
                if (PRIVILEGED.contains(key.toLowerCase())) {
                    List<String> path = List.of("containers", c.getKey(), key);
                    found.add(path);
                    at.report(path, "privileged setting \"" + key + "\" is " + PRIVILEGED_WORDS);
                }
            });
            JsonNode volumes = c.getValue().get("volumes");
            for (int i = 0; volumes != null && i < volumes.size(); i++) {
                JsonNode v = volumes.get(i);
                int index = i;
                v.fieldNames().forEachRemaining(key -> {
                    if (PRIVILEGED.contains(key.toLowerCase())) {
                        List<String> path = List.of("containers", c.getKey(), "volumes", String.valueOf(index), key);
                        found.add(path);
                        at.report(path, "bind mounts of host paths are " + PRIVILEGED_WORDS);
                    }
                });
            }
        });
        return found;
    }

    static void check(JsonNode tree, ManifestReader.Locator at) {
        JsonNode containers = tree.get("containers");
        if (containers == null || !containers.isObject()) {
            return;
        }
        admin(tree.path("admin"), containers, at);
        migrate(tree.path("migrate"), containers, at);
        Map<Integer, String> listeners = new HashMap<>();
        java.util.Set<String> listens = new java.util.HashSet<>();
        containers.fields().forEachRemaining(entry -> entry.getValue().path("ports").forEach(p -> {
            if (p.has("listen")) {
                listens.add(entry.getKey() + "." + p.path("name").asText());
            }
        }));
        containers.fields().forEachRemaining(entry -> {
            String name = entry.getKey();
            JsonNode c = entry.getValue();
            if (!c.isObject()) {
                return;
            }
            List<String> base = List.of("containers", name);
            String lifecycle = c.path("lifecycle").asText("service");
            ports(base, c, lifecycle, listeners, at);
            edges(base, name, c, containers, at);
            volumes(base, c, lifecycle, at);
            pool(base, c, lifecycle, at);
            isolation(base, c, lifecycle, at);
            health(base, c, at);
            egress(base, c, lifecycle, at);
            report(base, c, lifecycle, at);
            environment(base, c, listens, at);
            certificate(base, c, at);
            rollout(base, name, c, lifecycle, containers, at);
            stopWhenIdle(tree, base, name, c, lifecycle, containers, at);
            if (lifecycle.equals("per-message") && !hasEdgeTo(containers, name)) {
                at.report(append(base, "lifecycle"), "a per-message container serves its peers' connections, "
                        + "but no container declares an edge to \"" + name + "\"");
            }
        });
    }

    /** An admin command runs in a long-lived container of the app: one that is there to be asked. */
    private static void admin(JsonNode admin, JsonNode containers, ManifestReader.Locator at) {
        admin.fields().forEachRemaining(entry -> {
            String container = entry.getValue().path("container").asText("");
            if (container.isEmpty()) {
                return;
            }
            JsonNode c = containers.get(container);
            if (c == null) {
                at.report(List.of("admin", entry.getKey(), "container"), "no container named \"" + container + "\"");
            } else if (!c.path("lifecycle").asText("service").equals("service")) {
                at.report(List.of("admin", entry.getKey(), "container"), "\"" + container
                        + "\" is not a service container: admin commands run where the app's state lives");
            }
        });
    }

    /** A migration changes data: it runs where the data is, a service container with volumes. */
    private static void migrate(JsonNode migrate, JsonNode containers, ManifestReader.Locator at) {
        String container = migrate.path("container").asText("");
        if (container.isEmpty()) {
            return;
        }
        JsonNode c = containers.get(container);
        if (c == null) {
            at.report(List.of("migrate", "container"), "no container named \"" + container + "\"");
        } else if (!c.path("lifecycle").asText("service").equals("service") || c.path("volumes").isEmpty()) {
            at.report(List.of("migrate", "container"), "\"" + container
                    + "\" is not a service container with volumes: a migration runs where the app's data lives");
        }
    }

    /**
     * Two writers of one volume would corrupt it; peers reaching it by name would reach either; a
     * per-use container is new each time anyway.
     */
    private static void rollout(List<String> base, String name, JsonNode c, String lifecycle, JsonNode containers,
                                ManifestReader.Locator at) {
        String rollout = c.path("rollout").asText("");
        if (rollout.isEmpty()) {
            return;
        }
        boolean perUse = !lifecycle.equals("service") && !c.path("isolation").asText("container").equals("sandbox");
        if (perUse) {
            at.report(append(base, "rollout"), "a " + lifecycle + " container is made new for each use; rollout is for long-lived containers");
        } else if (rollout.equals("beside") && !c.path("volumes").isEmpty()) {
            at.report(append(base, "rollout"), "beside needs a container without volumes: a volume has one writer at a time (use replace)");
        } else if (rollout.equals("beside") && hasEdgeTo(containers, name)) {
            at.report(append(base, "rollout"), "beside needs a container no peer reaches by name: both would answer (use replace)");
        }
    }

    /**
     * Only a connection through one of its listeners wakes a stopped service: a peer's connection or
     * an admin command would find nothing there.
     */
    private static void stopWhenIdle(JsonNode tree, List<String> base, String name, JsonNode c, String lifecycle,
                                     JsonNode containers, ManifestReader.Locator at) {
        if (!c.has("stop-when-idle")) {
            return;
        }
        List<String> path = append(base, "stop-when-idle");
        boolean listened = false;
        for (JsonNode p : c.path("ports")) {
            listened |= p.has("listen");
        }
        if (!lifecycle.equals("service")) {
            at.report(path, "a " + lifecycle + " container is made for each use; stop-when-idle is for services");
        } else if (!listened) {
            at.report(path, "nothing would start it again: a stopped service wakes at a connection to a port with listen, and it has none");
        } else if (!c.has("health")) {
            at.report(path, "a connection that wakes it waits for its health check to pass, and it declares none");
        } else if (hasEdgeTo(containers, name)) {
            at.report(path, "a peer declares an edge to \"" + name + "\": it would find the service stopped (only its listeners wake it)");
        } else {
            tree.path("admin").fields().forEachRemaining(a -> {
                if (name.equals(a.getValue().path("container").asText(""))) {
                    at.report(path, "admin command \"" + a.getKey() + "\" runs in \"" + name + "\": it would find the service stopped");
                }
            });
        }
    }

    private static void ports(List<String> base, JsonNode c, String lifecycle, Map<Integer, String> listeners,
                              ManifestReader.Locator at) {
        JsonNode ports = c.path("ports");
        Set<String> names = new HashSet<>();
        Set<Integer> numbers = new HashSet<>();
        int publicPorts = 0;
        for (int i = 0; i < ports.size(); i++) {
            JsonNode p = ports.get(i);
            List<String> path = append(base, "ports", String.valueOf(i));
            String name = p.path("name").asText();
            if (!name.isEmpty() && !names.add(name)) {
                at.report(append(path, "name"), "\"" + name + "\" is declared twice in this container");
            }
            if (p.path("port").isInt() && !numbers.add(p.path("port").asInt())) {
                at.report(append(path, "port"), p.path("port").asInt() + " is declared twice in this container");
            }
            String exposure = p.path("exposure").asText();
            boolean listens = exposure.equals("public") || exposure.equals("private");
            publicPorts += exposure.equals("public") ? 1 : 0;
            if (listens && !p.has("listen")) {
                at.report(path, exposure + " port \"" + name + "\" needs listen: the host port its edge listener uses");
            }
            if (p.has("overlay") && !exposure.equals("public")) {
                at.report(append(path, "overlay"), "only public ports take overlay: a private port listens on the"
                        + " overlay alone, an internal one nowhere");
            }
            if (p.has("per-client") && !listens) {
                at.report(append(path, "per-client"), "only public and private ports have a listener to count clients");
            }
            if (p.has("proxy-protocol") && !listens) {
                at.report(append(path, "proxy-protocol"), "only public and private ports have a listener to send it");
            }
            if (exposure.equals("internal") && p.has("listen")) {
                at.report(append(path, "listen"), "internal ports have no listener: only declared edges reach them");
            }
            if (p.path("listen").isInt()) {
                int listen = p.path("listen").asInt();
                String where = ManifestProblem.field(path);
                String earlier = listeners.putIfAbsent(listen, where);
                if (earlier != null) {
                    at.report(append(path, "listen"), listen + " clashes on the host with " + earlier);
                }
            }
            if (lifecycle.equals("per-message") && listens) {
                at.report(append(path, "exposure"), "a per-message container serves no connections: "
                        + "its ports can only be internal");
            }
            if (lifecycle.equals("per-connection") && exposure.equals("private")) {
                at.report(append(path, "exposure"), "private services run for the owner as lifecycle service, "
                        + "not per-connection");
            }
        }
        // A sandbox host's health port answers the supervisor, not peers: it is not a served port.
        int served = ports.size() - (isSandboxHost(c) && names.contains(c.path("health").path("tcp").asText()) ? 1 : 0);
        if (lifecycle.equals("per-message") && served != 1) {
            at.report(append(base, "lifecycle"), "a per-message container serves exactly one internal port (it has "
                    + served + ")");
        }
        if (lifecycle.equals("per-connection") && publicPorts != 1) {
            at.report(append(base, "lifecycle"), "a per-connection container serves exactly one public port (it has "
                    + publicPorts + ")");
        }
    }

    private static void edges(List<String> base, String self, JsonNode c, JsonNode containers,
                              ManifestReader.Locator at) {
        JsonNode edges = c.path("edges");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < edges.size(); i++) {
            JsonNode e = edges.get(i);
            List<String> path = append(base, "edges", String.valueOf(i));
            String to = e.path("to").asText();
            String port = e.path("port").asText();
            if (to.isEmpty()) {
                continue;
            }
            JsonNode target = containers.get(to);
            if (to.equals(self)) {
                at.report(append(path, "to"), "a container needs no edge to itself");
            } else if (target == null) {
                List<String> known = new ArrayList<>();
                containers.fieldNames().forEachRemaining(known::add);
                at.report(append(path, "to"), "no container named \"" + to + "\" (containers: " + String.join(", ", known) + ")");
            } else if (!port.isEmpty()) {
                List<String> declared = new ArrayList<>();
                target.path("ports").forEach(p -> declared.add(p.path("name").asText()));
                if (!declared.contains(port)) {
                    at.report(append(path, "port"), "\"" + to + "\" declares no port named \"" + port + "\" (its ports: "
                            + (declared.isEmpty() ? "none" : String.join(", ", declared)) + ")");
                } else if (isSandboxHost(target) && port.equals(target.path("health").path("tcp").asText())) {
                    at.report(append(path, "port"), "\"" + port + "\" is " + to + "'s status port: only the supervisor "
                            + "asks a sandbox host for its counts");
                } else if (target.path("lifecycle").asText().equals("per-connection")) {
                    // Its one connection comes from its public listener; a peer would need a per-message target.
                    at.report(append(path, "to"), "\"" + to + "\" is per-connection: it is reached only through its "
                            + "public port; make it per-message to serve peers");
                }
            }
            if (!seen.add(to + "/" + port)) {
                at.report(path, "edge to " + to + ":" + port + " is declared twice");
            }
        }
    }

    private static boolean hasEdgeTo(JsonNode containers, String target) {
        for (var it = containers.elements(); it.hasNext(); ) {
            for (JsonNode e : it.next().path("edges")) {
                if (e.path("to").asText().equals(target)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void pool(List<String> base, JsonNode c, String lifecycle, ManifestReader.Locator at) {
        JsonNode pool = c.path("pool");
        if (pool.isMissingNode()) {
            return;
        }
        if (lifecycle.equals("service")) {
            at.report(append(base, "pool"), "only per-connection and per-message containers have a warm pool");
        }
        if (pool.path("warm").isInt() && pool.path("ceiling").isInt()
                && pool.path("warm").asInt() > pool.path("ceiling").asInt()) {
            at.report(append(base, "pool", "warm"), "warm " + pool.path("warm").asInt() + " exceeds the ceiling "
                    + pool.path("ceiling").asInt());
        }
    }

    private static boolean isSandboxHost(JsonNode c) {
        return c.path("isolation").asText().equals("sandbox");
    }

    private static void isolation(List<String> base, JsonNode c, String lifecycle, ManifestReader.Locator at) {
        if (c.has("isolation") && lifecycle.equals("service")) {
            at.report(append(base, "isolation"), "only per-connection and per-message containers choose an isolation");
        }
        if (c.has("sandboxes") && !isSandboxHost(c)) {
            at.report(append(base, "sandboxes"), "sandboxes applies to isolation: sandbox");
        }
        if (!isSandboxHost(c) || lifecycle.equals("service")) {
            return;
        }
        if (c.has("pool")) {
            at.report(append(base, "pool"), "a sandbox host keeps no warm containers: sandboxes sets how many sandboxes "
                    + "it may have at once");
        }
        if (!c.path("health").path("tcp").isTextual()) {
            at.report(append(base, "isolation"), "a sandbox host answers its counts on a status port: declare it as an "
                    + "internal port and name it in health: {tcp: PORT}");
        }
    }

    private static void environment(List<String> base, JsonNode c, java.util.Set<String> listens, ManifestReader.Locator at) {
        ManifestReader.fields(c.get("environment")).forEachRemaining(e -> {
            String problem = e.getValue().isTextual() ? BoxName.problem(e.getValue().asText(), listens) : null;
            if (problem != null) {
                at.report(append(base, "environment", e.getKey()), problem);
            }
        });
    }

    private static void certificate(List<String> base, JsonNode c, ManifestReader.Locator at) {
        JsonNode names = c.get("certificate");
        if (names == null) {
            return;
        }
        boolean named = true;
        for (int i = 0; i < (names.isArray() ? names.size() : 1); i++) {
            JsonNode name = names.isArray() ? names.get(i) : names;
            String problem = name.isTextual() ? BoxName.hostProblem(name.asText()) : null;
            if (problem != null) {
                at.report(names.isArray() ? append(base, "certificate", String.valueOf(i)) : append(base, "certificate"), problem);
                named = false;
            }
        }
        if (named && !c.path("lifecycle").asText("service").equals("service") && !isSandboxHost(c)) {
            // The supervisor keeps the files current in long-lived containers; a pool's would go stale.
            at.report(append(base, "certificate"), "only services and sandbox hosts take a certificate");
        }
    }

    private static void volumes(List<String> base, JsonNode c, String lifecycle, ManifestReader.Locator at) {
        JsonNode volumes = c.path("volumes");
        // A sandbox host may keep a volume: its sandboxes never see it (the host covers its paths in
        // each one) but for the part the handler binds in for one use (one user's Bayes database).
        if (volumes.size() > 0 && !lifecycle.equals("service") && !isSandboxHost(c)) {
            at.report(append(base, "volumes"), lifecycle + " containers must stay stateless: no volumes "
                    + "(a sandbox host may keep one, hidden from its sandboxes: isolation sandbox)");
        }
        Set<String> names = new HashSet<>();
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < volumes.size(); i++) {
            JsonNode v = volumes.get(i);
            List<String> path = append(base, "volumes", String.valueOf(i));
            String name = v.path("name").asText();
            String mount = v.path("path").asText();
            if (!name.isEmpty() && !names.add(name)) {
                at.report(append(path, "name"), "\"" + name + "\" is declared twice in this container");
            }
            if (mount.contains("docker.sock")) {
                at.report(append(path, "path"), "the engine's socket is never given to a container");
            } else if (SYSTEM_PATHS.contains(mount.replaceAll("/+$", "").isEmpty() ? "/" : mount.replaceAll("/+$", ""))) {
                at.report(append(path, "path"), "\"" + mount + "\" is a system folder; mount volumes at their own path such as /data");
            } else if (!mount.isEmpty() && !paths.add(mount)) {
                at.report(append(path, "path"), "\"" + mount + "\" is mounted twice");
            }
        }
    }

    private static void egress(List<String> base, JsonNode c, String lifecycle, ManifestReader.Locator at) {
        JsonNode egress = c.path("egress");
        boolean sandboxed = c.path("isolation").asText("").equals("sandbox");
        Set<String> targets = new HashSet<>();
        for (int i = 0; i < egress.size(); i++) {
            List<String> path = append(base, "egress", String.valueOf(i));
            String to = egress.get(i).path("to").asText();
            // A stranger's parser gets no route out. The one exception: a sandbox host may hand each
            // sandbox a socket to the resolver, through which an exploited sandbox can only tell the
            // world about the one message it holds, which its sender has anyway.
            if (!lifecycle.equals("service") && !(sandboxed && to.equals(AppManifest.Egress.RESOLVER))) {
                at.report(append(path, "to"), lifecycle + " containers parse what strangers send: they never get a"
                        + " route out (a sandbox host may reach the resolver: isolation sandbox, to: resolver)");
            }
            JsonNode ports = egress.get(i).path("ports");
            if (!to.isEmpty() && !targets.add(to)) {
                at.report(append(path, "to"), "\"" + to + "\" is declared twice in this container");
            }
            if (to.equals(AppManifest.Egress.RESOLVER) && !(ports.size() == 1 && ports.get(0).asInt() == 53)) {
                at.report(append(path, "ports"), "a resolver answers on port 53 only: write ports: [53]");
            }
            if (to.equals(AppManifest.Egress.RELAY) && !ports.isMissingNode()) {
                at.report(append(path, "ports"), "the relay's port is the owner's to set (appliance.yaml egress.relay.port): leave ports out");
            } else if (!to.equals(AppManifest.Egress.RELAY) && !to.isEmpty() && ports.isMissingNode()) {
                at.report(append(path, "to"), "egress to " + to + " needs ports: the ports it may reach there");
            }
        }
    }

    private static void report(List<String> base, JsonNode c, String lifecycle, ManifestReader.Locator at) {
        String report = c.path("report").asText("");
        if (report.isEmpty()) {
            return;
        }
        if (!lifecycle.equals("service")) {
            at.report(append(base, "report"), "only service containers report facts (ephemeral ones are gone too soon)");
            return;
        }
        JsonNode ports = c.path("ports");
        for (int i = 0; i < ports.size(); i++) {
            if (ports.get(i).path("name").asText().equals(report)) {
                if (!ports.get(i).path("exposure").asText().equals("internal")) {
                    at.report(append(base, "report"), "port \"" + report + "\" must be internal: facts are for the supervisor only");
                }
                return;
            }
        }
        at.report(append(base, "report"), "no port named \"" + report + "\" in this container");
    }

    private static void health(List<String> base, JsonNode c, ManifestReader.Locator at) {
        JsonNode health = c.get("health");
        if (health == null || !health.isObject()) {
            return;
        }
        int kinds = (health.has("tcp") ? 1 : 0) + (health.has("command") ? 1 : 0) + (health.has("log") ? 1 : 0);
        if (kinds != 1) {
            at.report(append(base, "health"), "name exactly one check: tcp, command or log (found " + kinds + ")");
        }
        String tcp = health.path("tcp").asText();
        if (!tcp.isEmpty()) {
            boolean declared = false;
            for (JsonNode p : c.path("ports")) {
                declared |= tcp.equals(p.path("name").asText());
            }
            if (!declared) {
                at.report(append(base, "health", "tcp"), "this container declares no port named \"" + tcp + "\"");
            }
        }
    }

    private static List<String> append(List<String> path, String... more) {
        List<String> out = new ArrayList<>(path);
        out.addAll(List.of(more));
        return out;
    }
}
