package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.network.NetworkPlan;
import org.hearth.core.runtime.ContainerRuntime.ContainerInfo;
import org.hearth.core.runtime.ContainerRuntime.NetworkInfo;
import org.hearth.core.runtime.HearthLabels;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one app's pass knows and has decided so far; each {@link AppStep} reads what earlier steps
 * wrote and adds its own part. Lives for one pass.
 */
final class AppPass {

    final AppManifest manifest;
    final Instant now;
    /** The first pass since the supervisor started: containers found stopped were stopped by hearth down. */
    final boolean firstPass;
    /** The overlay's address in this pass; empty while it is down. */
    final Optional<InetAddress> overlayAddress;
    /** This app's containers on the engine at the start of the pass, by role (the manifest's container name). */
    final Map<String, List<ContainerInfo>> byRole = new HashMap<>();
    /** This app's networks on the engine at the start of the pass. */
    final List<NetworkInfo> networks;

    NetworkPlan plan;
    /** The bridge interface of each planned network, by name. */
    final Map<String, String> bridges = new HashMap<>();
    /** The host's address on each planned network, by name. */
    final Map<String, String> gateways = new HashMap<>();
    /** The running service container of each role: the one serving. */
    final Map<String, ContainerInfo> running = new HashMap<>();
    /** A role's second running container while it takes over from the one serving (manifest rollout beside). */
    final Map<String, ContainerInfo> beside = new HashMap<>();
    /** The opened volumes of each service role (container path to host folder), or why they could not open. */
    final Map<String, Map<String, Path>> dataFolders = new HashMap<>();
    final Map<String, Unavailable> storageProblems = new HashMap<>();
    final Map<String, SupervisorStatus.Container> containers = new HashMap<>();
    final List<DesiredListener> listeners = new ArrayList<>();
    /** Ids of this app's containers that still exist, so health records of the others can go. */
    final Set<String> live = new HashSet<>();
    /** What the current step is working on, for its failure message ("container imap"). */
    Optional<String> subject = Optional.empty();

    /**
     * Why a role's volumes are not open.
     *
     * @param stop whether its containers must stop (storage locked or absent) rather than be left as they are
     */
    record Unavailable(String reason, boolean stop) {
    }

    AppPass(AppManifest manifest, Instant now, boolean firstPass, Optional<InetAddress> overlayAddress,
            List<ContainerInfo> instanceContainers, List<NetworkInfo> instanceNetworks) {
        this.manifest = manifest;
        this.now = now;
        this.firstPass = firstPass;
        this.overlayAddress = overlayAddress;
        for (ContainerInfo info : instanceContainers) {
            // A migration's container is the upgrade's to run and remove, not the pass's.
            if (!app().equals(info.labels().get(HearthLabels.APP)) || info.labels().containsKey(HearthLabels.MIGRATION)) {
                continue;
            }
            String role = info.labels().getOrDefault(HearthLabels.ROLE, "");
            byRole.computeIfAbsent(role, k -> new ArrayList<>()).add(info);
            if (info.running()) {
                running.put(role, info);
            }
        }
        this.networks = instanceNetworks.stream().filter(n -> app().equals(n.labels().get(HearthLabels.APP))).toList();
    }

    String app() {
        return manifest.app();
    }

    List<ContainerInfo> existing(String role) {
        return byRole.getOrDefault(role, List.of());
    }

    /** Each running service container's address on each network, by role. */
    Map<String, Map<String, String>> addresses() {
        Map<String, Map<String, String>> out = new HashMap<>();
        running.forEach((role, info) -> out.put(role, info.addresses()));
        return out;
    }

    /** The same for each role's container started beside the one serving. */
    Map<String, Map<String, String>> besideAddresses() {
        Map<String, Map<String, String>> out = new HashMap<>();
        beside.forEach((role, info) -> out.put(role, info.addresses()));
        return out;
    }

    /** The containers' statuses in manifest order (the steps fill them in any order). */
    List<SupervisorStatus.Container> containerStatuses() {
        return manifest.containers().keySet().stream().map(containers::get).filter(c -> c != null).toList();
    }
}
