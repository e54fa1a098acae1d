package org.hearth.core.supervisor;

import org.hearth.core.manifest.BoxName;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.network.EgressConfig;
import org.hearth.core.network.NetworkPlan;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.EngineNames;
import org.hearth.core.runtime.HearthLabels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.Optional;
import java.util.stream.Collectors;

/** The engine spec of a manifest's container, and the hash that says when a running one is out of date. */
final class ContainerSpecs {

    private static final ObjectMapper SPEC_JSON = new ObjectMapper().registerModule(new Jdk8Module())
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /** The role label of a migration's container: no manifest name has a dot. */
    static final String MIGRATION_ROLE = "upgrade.migration";

    /** The variable that tells a container with egress to the resolver where to ask. */
    static final String RESOLVER_VARIABLE = "HEARTH_RESOLVER";

    private final String instance;
    private final EngineNames names;
    private final EgressConfig egress;
    private final ContainerSecrets secrets;
    private final Supplier<String> boxDomain;

    /** @param boxDomain the box's name now, for {@link BoxName#DOMAIN} in environments (it changes when the box is paired) */
    ContainerSpecs(String instance, EngineNames names, EgressConfig egress, ContainerSecrets secrets,
                   Supplier<String> boxDomain) {
        this.instance = instance;
        this.names = names;
        this.egress = egress;
        this.secrets = secrets;
        this.boxDomain = boxDomain;
    }

    static String lifecycleOf(AppManifest.Container decl) {
        return decl.lifecycle().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @param dataFolders each volume's host folder, by its path in the container */
    ContainerSpec spec(AppPass app, String name, Map<String, Path> dataFolders) {
        AppManifest.Container decl = app.manifest.containers().get(name);
        ContainerSpec spec = ContainerSpec.of(decl.image())
                .withCommand(decl.command())
                .withEnv(BoxName.expand(decl.environment(), boxDomain.get(), app.manifest))
                .withLimits(decl.memoryBytes(), decl.pids())
                .withLabels(Map.of(HearthLabels.INSTANCE, instance, HearthLabels.APP, app.app(), HearthLabels.ROLE, name,
                        HearthLabels.LIFECYCLE, lifecycleOf(decl)));
        // The server must expect the header on exactly these ports, or it reads it as its client's words.
        String proxied = decl.ports().stream().filter(AppManifest.Port::sendsProxyHeader)
                .map(p -> String.valueOf(p.port())).collect(Collectors.joining(","));
        if (!proxied.isEmpty()) {
            spec = spec.withEnv(Map.of("HEARTH_PROXY_PROTOCOL_PORTS", proxied));
        }
        if (decl.sandboxHost()) {
            // Its volumes are the host's: each sandbox gets them covered (Hearth::Sandbox hide).
            spec = spec.withSandboxHost().withEnv(Map.of("HEARTH_SANDBOXES", String.valueOf(decl.sandboxesOrDefault()),
                    "HEARTH_SANDBOX_HIDE", decl.volumes().stream().map(AppManifest.Volume::path)
                            .collect(Collectors.joining(":"))));
        }
        boolean asksResolver = decl.egress().stream().anyMatch(e -> e.to().equals(AppManifest.Egress.RESOLVER));
        if (asksResolver && egress.resolver().isPresent()) {
            // The app's own DNS client asks it. The engine's resolver (resolv.conf) answers the app's own names
            // only, on either engine: Podman 4.3 would drop them for a container given servers of its own.
            spec = spec.withEnv(Map.of(RESOLVER_VARIABLE, egress.resolver().get()));
        }
        if (secrets.needs(decl)) {
            spec = spec.withSecrets(secrets.folder(app.app(), name).toString());
        }
        if (secrets.sendsThroughRelay(decl)) {
            spec = spec.withEnv(secrets.relayEnvironment());
        }
        for (NetworkPlan.Attachment a : app.plan.attachmentsOf(name)) {
            spec = spec.withNetwork(a.network(), a.aliases().toArray(String[]::new));
        }
        for (Map.Entry<String, Path> folder : dataFolders.entrySet()) {
            spec = spec.withVolume(folder.getValue().toString(), folder.getKey());
        }
        // Connections through the edge listener come from the ingress gateway: name it in /etc/hosts, so
        // a server's reverse lookup of its client is answered at once instead of timing out.
        Optional<String> ingressGateway = Optional.ofNullable(app.gateways.get(names.ingressNetwork(app.app(), name)));
        if (ingressGateway.isPresent()) {
            spec = spec.withHost("edge-listener", ingressGateway.get());
        }
        // A per-message peer's name leads to the supervisor's hand-off listener on this edge's gateway.
        for (String to : decl.edges().stream().map(AppManifest.Edge::to).distinct().toList()) {
            if (app.manifest.containers().get(to).containerPerUse()) {
                Optional<String> gateway = Optional.ofNullable(app.gateways.get(names.edgeNetwork(app.app(), name, to)));
                if (gateway.isPresent()) {
                    spec = spec.withHost(to, gateway.get());
                }
            }
        }
        return spec;
    }

    /**
     * The one-off container of an upgrade's data migration: the new version's image, environment,
     * limits and volumes for the migration's container, the versions in {@code HEARTH_MIGRATE_FROM} and
     * {@code HEARTH_MIGRATE_TO}, and no network and no secrets: it changes data, nothing else.
     */
    ContainerSpec migration(AppManifest to, String fromVersion, Map<String, Path> dataFolders) {
        AppManifest.Migrate migrate = to.migrate().orElseThrow();
        AppManifest.Container decl = to.containers().get(migrate.container());
        ContainerSpec spec = ContainerSpec.of(decl.image())
                .runningProgram(migrate.command())
                .withEnv(BoxName.expand(decl.environment(), boxDomain.get(), to))
                .withEnv(Map.of("HEARTH_MIGRATE_FROM", fromVersion, "HEARTH_MIGRATE_TO", to.version()))
                .withLimits(decl.memoryBytes(), decl.pids())
                // Its own app label (else the image's would make it an orphan); passes leave it alone by its migration label.
                .withLabels(Map.of(HearthLabels.INSTANCE, instance, HearthLabels.APP, to.app(), HearthLabels.ROLE, MIGRATION_ROLE,
                        HearthLabels.MIGRATION, to.app()));
        for (Map.Entry<String, Path> folder : dataFolders.entrySet()) {
            spec = spec.withVolume(folder.getValue().toString(), folder.getKey());
        }
        return spec;
    }

    /** Everything that, if changed, needs a new container: the spec itself and the image it runs. */
    static String hash(ContainerSpec spec, String imageId) {
        try {
            byte[] json = SPEC_JSON.writeValueAsBytes(spec);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(json);
            sha.update(imageId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash a container spec", e);
        }
    }
}
