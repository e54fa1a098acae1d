package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestProblem;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.yaml.YamlLines;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a valid manifest must also satisfy on this machine before it is installed: its images are
 * built here, its host ports are free of other apps, and it asks for nothing this supervisor
 * cannot enforce yet.
 */
public final class InstallChecks {

    private InstallChecks() {
    }

    public static List<ManifestProblem> check(String file, String text, AppManifest manifest,
                                              ContainerRuntime runtime, List<InstalledApps.Installed> installed) {
        YamlLines lines = YamlLines.of(text);
        List<ManifestProblem> problems = new ArrayList<>();
        manifest.containers().forEach((name, c) -> {
            if (runtime.imageId(c.image()).isEmpty()) {
                problems.add(ManifestProblem.at(file, lines, List.of("containers", name, "image"),
                        c.image() + " is not built on this machine (run: hearth images build)"));
            }
            for (int i = 0; i < c.egress().size(); i++) {
                String to = c.egress().get(i).to();
                if (!List.of(AppManifest.Egress.INTERNET, AppManifest.Egress.RESOLVER, AppManifest.Egress.RELAY).contains(to)) {
                    // A name's addresses change behind the firewall's back: rules match addresses.
                    problems.add(ManifestProblem.at(file, lines, List.of("containers", name, "egress", String.valueOf(i), "to"),
                            "egress to a named host (" + to + ") cannot be enforced by this supervisor yet: "
                                    + "declare internet with ports, resolver or relay"));
                }
            }
            for (int i = 0; i < c.ports().size(); i++) {
                AppManifest.Port port = c.ports().get(i);
                String index = String.valueOf(i);
                if (port.listen().isEmpty()) {
                    continue;
                }
                for (InstalledApps.Installed other : installed) {
                    if (other.app().equals(manifest.app()) || other.manifest().isEmpty()) {
                        continue;
                    }
                    usedBy(other.manifest().get(), port.listen().get()).ifPresent(where ->
                            problems.add(ManifestProblem.at(file, lines,
                                    List.of("containers", name, "ports", index, "listen"),
                                    port.listen().get() + " is already the host port of " + where)));
                }
            }
        });
        return problems;
    }

    private static Optional<String> usedBy(AppManifest other, int listen) {
        for (var entry : other.containers().entrySet()) {
            for (AppManifest.Port p : entry.getValue().ports()) {
                if (p.listen().isPresent() && p.listen().get() == listen) {
                    return Optional.of("app " + other.app() + " (" + entry.getKey() + "/" + p.name() + ")");
                }
            }
        }
        return Optional.empty();
    }
}
