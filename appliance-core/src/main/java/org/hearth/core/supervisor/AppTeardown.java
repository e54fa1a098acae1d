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

    static Map<String, String> labelsOf(String instance, String app) {
        return Map.of(HearthLabels.MANAGED, "true", HearthLabels.INSTANCE, instance, HearthLabels.APP, app);
    }

    /** Containers and networks always; volumes (the app's data) only when {@code keepData} is false. */
    public static void remove(ContainerRuntime runtime, String instance, String app, boolean keepData) {
        Map<String, String> labels = labelsOf(instance, app);
        runtime.containers(labels).forEach(c -> runtime.remove(c.id()));
        runtime.networks(labels).forEach(n -> runtime.removeNetwork(n.id()));
        if (!keepData) {
            runtime.volumes(labels).forEach(runtime::removeVolume);
        }
    }

    /** Stops every app container of this Hearth instance, in parallel, each with a short grace period. */
    public static void stopAll(ContainerRuntime runtime, String instance) {
        List<CompletableFuture<Void>> stops = runtime.containers(Map.of(HearthLabels.MANAGED, "true",
                        HearthLabels.INSTANCE, instance)).stream()
                .filter(c -> c.labels().containsKey(HearthLabels.APP) && c.running())
                .map(c -> CompletableFuture.runAsync(() -> runtime.stop(c.id(), Duration.ofSeconds(5))))
                .toList();
        stops.forEach(CompletableFuture::join);
    }
}
