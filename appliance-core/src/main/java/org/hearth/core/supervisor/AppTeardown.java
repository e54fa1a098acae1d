package org.hearth.core.supervisor;

import org.hearth.core.HearthHome;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.volume.AppVolumes;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;

import java.io.IOException;
import java.nio.file.Path;
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

    /** The app's containers and networks. */
    public static void remove(ContainerRuntime runtime, String instance, String app) {
        Map<String, String> labels = labelsOf(instance, app);
        runtime.containers(labels).forEach(c -> runtime.remove(c.id()));
        runtime.networks(labels).forEach(n -> runtime.removeNetwork(n.id()));
        ContainerSecrets.forget(instance, app);
    }

    /** Every app's containers are stopped: what they were handed from the key vault goes too. */
    public static void forgetSecrets(String instance) {
        ContainerSecrets.forget(instance, null);
    }

    /** After its containers are gone: closes the app's volumes, or with {@code delete} destroys them and their keys. */
    public static void releaseVolumes(HearthHome home, AppManifest manifest, boolean delete) throws IOException {
        for (AppManifest.Container c : manifest.containers().values()) {
            for (AppManifest.Volume v : c.volumes()) {
                AppVolumes.release(home.state(), volumesDir(home), AppStorage.volumeName(manifest.app(), v.name()),
                        ImageRecipe.UID, ImageRecipe.GID, delete);
            }
        }
    }

    /** Where this instance keeps its volumes' files and mountpoints. */
    public static Path volumesDir(HearthHome home) {
        return home.state().resolve("volumes");
    }

    /**
     * Stops every app container of this Hearth instance, in parallel, each with a short grace period;
     * returns when all have been tried, throwing if any could not be stopped.
     */
    public static void stopAll(ContainerRuntime runtime, String instance) {
        List<CompletableFuture<Void>> stops = runtime.containers(Map.of(HearthLabels.MANAGED, "true",
                        HearthLabels.INSTANCE, instance)).stream()
                .filter(c -> c.labels().containsKey(HearthLabels.APP) && c.running())
                .map(c -> CompletableFuture.runAsync(() -> runtime.stop(c.id(), Duration.ofSeconds(5))))
                .toList();
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
    }
}
