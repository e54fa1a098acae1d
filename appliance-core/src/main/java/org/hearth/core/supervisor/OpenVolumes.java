package org.hearth.core.supervisor;

import org.hearth.core.volume.AppVolumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;

/**
 * Opens the encrypted volumes of the app's service containers. A role whose volumes cannot open
 * gets the reason instead: locked storage (or none) stops its containers; another failure leaves
 * them as they are.
 */
final class OpenVolumes implements AppStep {

    private static final Logger LOG = LoggerFactory.getLogger(OpenVolumes.class);

    private final AppStorage storage;

    OpenVolumes(AppStorage storage) {
        this.storage = storage;
    }

    @Override
    public String name() {
        return "volumes";
    }

    @Override
    public void apply(AppPass app) {
        app.manifest.containers().forEach((name, decl) -> {
            if (decl.containerPerUse() || decl.volumes().isEmpty()) {
                return;
            }
            app.subject = Optional.of("container " + name);
            Optional<String> missing = storage.missing().or(() -> storage.held(app.app()));
            if (missing.isPresent()) {
                app.storageProblems.put(name, new AppPass.Unavailable(missing.get(), true));
                return;
            }
            try {
                app.dataFolders.put(name, storage.open(app.app(), decl));
            } catch (AppVolumes.LockedException e) {
                app.storageProblems.put(name, new AppPass.Unavailable(e.getMessage(), true));
            } catch (IOException e) {
                LOG.warn("app={} container={} event=volume-failed error={}", app.app(), name, e.getMessage());
                app.storageProblems.put(name, new AppPass.Unavailable(e.getMessage(), false));
            }
        });
        app.subject = Optional.empty();
    }
}
