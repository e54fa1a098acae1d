package org.hearth.core.catalog;

import com.github.dockerjava.api.DockerClient;
import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.image.ImagePlatform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The daemon's catalog install: refresh the configured catalogs, find the release, bring its verified
 * manifest and images onto the box, and hand the manifest to the supervisor's install. The CLI and the
 * owner app ask for it on the control socket; neither touches the engine itself.
 */
public final class CatalogInstaller {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogInstaller.class);

    private final HearthHome home;
    private final DockerClient docker;
    private final Optional<String> hearthVersion;

    public CatalogInstaller(HearthHome home, DockerClient docker, Optional<String> hearthVersion) {
        this.home = home;
        this.docker = docker;
        this.hearthVersion = hearthVersion;
    }

    /** The supervisor's upgrade: (where the manifest came from, its text, the deadline for health) → what it says. */
    @FunctionalInterface
    public interface Upgrade {
        String apply(String file, String text, Duration deadline) throws Exception;
    }

    /**
     * Upgrades an installed app to {@code version} (or the newest the catalogs list), its release
     * verified and its images loaded as for an install; an older or the same version is refused.
     */
    public String upgrade(String app, String installedVersion, Optional<String> version, Duration deadline, Upgrade upgrade)
            throws Exception {
        Catalogs catalogs = catalogs();
        List<String> told = refreshed(catalogs);
        Catalogs.Found found = catalogs.find(app, version);
        if (Versions.parse(found.release().version()).compareTo(Versions.parse(installedVersion)) <= 0) {
            throw new CatalogException(app + " " + installedVersion + " is installed; catalog " + found.source().name()
                    + (version.isPresent() ? " offers " + version.get() + ", not a newer one" : " has nothing newer")
                    + " (going back to an older version is not an upgrade: remove and install it)");
        }
        ReleaseFetcher.Fetched fetched = new ReleaseFetcher(docker, home.stateDir("catalog").resolve("downloads"), hearthVersion)
                .fetch(found, line -> LOG.info("app={} event=catalog-fetch {}", app, line));
        told.add(fetched.label() + " verified" + (fetched.imagesLoaded() ? " and its images loaded" : ""));
        told.add(upgrade.apply(found.source().name() + ":" + found.release().manifest().path(), fetched.manifestText(), deadline));
        return String.join("\n", told);
    }

    /** The catalogs as appliance.yaml names them now. */
    public Catalogs catalogs() {
        return new Catalogs(ApplianceConfig.read(home).catalog(), home.stateDir("catalog"), Clock.systemUTC(),
                ImagePlatform.host().arch());
    }

    /**
     * @param install the supervisor's install: (where the manifest came from, its text) → what it says
     * @return what the owner is told, one line per step
     */
    public String install(String app, Optional<String> version, BiFunction<String, String, String> install) throws CatalogException {
        long start = System.nanoTime();
        Catalogs catalogs = catalogs();
        List<String> told = refreshed(catalogs);
        Catalogs.Found found = catalogs.find(app, version);
        ReleaseFetcher.Fetched fetched = new ReleaseFetcher(docker, home.stateDir("catalog").resolve("downloads"), hearthVersion)
                .fetch(found, line -> LOG.info("app={} event=catalog-fetch {}", app, line));
        told.add(String.format("%s verified%s in %.1f s", fetched.label(),
                fetched.imagesLoaded() ? " and its images loaded" : " (its images were already here)", (System.nanoTime() - start) / 1e9));
        LOG.info("app={} event=catalog-verified catalog={} index={} version={} loaded={}", app, found.source().name(),
                found.index().version(), found.release().version(), fetched.imagesLoaded());
        told.add(install.apply(found.source().name() + ":" + found.release().manifest().path(), fetched.manifestText()));
        return String.join("\n", told);
    }

    /**
     * Refreshes every source to the freshest index it offers; what the owner is told of one that
     * cannot be fetched or fails verification (it leaves the held index in use).
     */
    private static List<String> refreshed(Catalogs catalogs) {
        List<String> told = new ArrayList<>();
        for (Catalogs.Refreshed r : catalogs.refresh()) {
            r.problem().ifPresent(p -> told.add("catalog " + r.source().name() + ": refresh refused: " + p
                    + (r.before() > 0 ? " (using index " + r.before() + ")" : "")));
        }
        return told;
    }
}
