package org.hearth.core.supervisor;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Removes what an app left on the engine, found by its labels. Idempotent. */
public final class AppTeardown {

    private AppTeardown() {
    }

    static Map<String, String> labelsOf(String app) {
        return Map.of(HearthLabels.MANAGED, "true", HearthLabels.APP, app);
    }

    /** Containers and networks always; volumes (the app's data) only when {@code keepData} is false. */
    public static void remove(ContainerRuntime runtime, String app, boolean keepData) {
        Map<String, String> labels = labelsOf(app);
        runtime.containers(labels).forEach(c -> runtime.remove(c.id()));
        runtime.networks(labels).forEach(n -> runtime.removeNetwork(n.id()));
        if (!keepData) {
            runtime.volumes(labels).forEach(runtime::removeVolume);
        }
    }

    /** Stops every app container Hearth manages, in parallel, each with a short grace period. */
    public static void stopAll(ContainerRuntime runtime) {
        List<CompletableFuture<Void>> stops = runtime.containers(Map.of(HearthLabels.MANAGED, "true")).stream()
                .filter(c -> c.labels().containsKey(HearthLabels.APP) && c.running())
                .map(c -> CompletableFuture.runAsync(() -> runtime.stop(c.id(), Duration.ofSeconds(5))))
                .toList();
        stops.forEach(CompletableFuture::join);
    }
}
