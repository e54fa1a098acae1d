package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.catalog.CatalogException;
import org.hearth.core.catalog.CatalogIndex;
import org.hearth.core.catalog.CatalogKey;
import org.hearth.core.catalog.CatalogPublisher;
import org.hearth.core.image.ImagePlatform;
import org.hearth.core.catalog.Catalogs;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.Engine;
import org.hearth.core.supervisor.ControlRequest;
import org.hearth.core.supervisor.InstalledApps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "catalog", mixinStandardHelpOptions = true,
        description = "The signed app catalogs this box installs from (appliance.yaml catalog.sources), and publishing one.",
        subcommands = {CatalogCommand.ListCatalogs.class, CatalogCommand.Show.class, CatalogCommand.Refresh.class,
                CatalogCommand.Build.class, CatalogCommand.Key.class})
final class CatalogCommand {

    @ParentCommand
    HearthCommand root;

    static Catalogs catalogs(HearthHome home) {
        return new Catalogs(ApplianceConfig.read(home).catalog(), home.stateDir("catalog"), Clock.systemUTC(),
                ImagePlatform.host().arch());
    }

    /** Asks the supervisor to install {@code NAME[@VERSION]} from the first catalog that lists it; returns the exit code. */
    static int install(HearthHome home, String nameAndVersion, Optional<Duration> wait) throws Exception {
        String[] parts = nameAndVersion.split("@", 2);
        long start = System.nanoTime();
        System.out.println(ControlClient.message(home, new ControlRequest.InstallFromCatalog(parts[0],
                parts.length > 1 ? Optional.of(parts[1]) : Optional.empty())));
        return AppCommand.awaitHealthy(home, parts[0], start, wait);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The catalogs held, and their apps' newest versions.")
    static final class ListCatalogs implements Callable<Integer> {
        @ParentCommand
        CatalogCommand catalog;

        @Override
        public Integer call() {
            HearthHome home = catalog.root.home();
            Catalogs catalogs = catalogs(home);
            List<Catalogs.Held> held = catalogs.held();
            if (held.isEmpty()) {
                System.out.println("no catalogs configured (appliance.yaml: catalog.sources; see docs/catalog.md)");
                return 0;
            }
            Map<String, String> installed = installedVersions(home);
            int bad = 0;
            for (Catalogs.Held h : held) {
                if (h.index().isEmpty()) {
                    bad++;
                    System.out.printf("%s (%s): %s%n", h.source().name(), where(h), h.problem().orElse(""));
                    continue;
                }
                CatalogIndex index = h.index().get();
                System.out.printf("%s (%s): index %d, published %s, expires %s%n", h.source().name(), where(h), index.version(),
                        index.published(), index.expires());
                for (CatalogIndex.App app : index.apps()) {
                    System.out.printf("  %-14s %-10s %-22s %s%n", app.name(), app.latestFor(catalogs.arch())
                                    .map(CatalogIndex.Release::version).orElse("(not " + catalogs.arch() + ")"),
                            Optional.ofNullable(installed.get(app.name())).map(v -> "installed " + v).orElse(""), app.description());
                }
            }
            return bad == 0 ? 0 : 1;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "An app in the catalogs: its releases, images and notes.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        CatalogCommand catalog;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws CatalogException {
            HearthHome home = catalog.root.home();
            Catalogs.Found found = catalogs(home).find(name, Optional.empty());
            CatalogIndex.App app = found.app();
            System.out.printf("%s, from catalog %s (index %d)%n  %s%n", app.name(), found.source().name(), found.index().version(),
                    app.description());
            Optional.ofNullable(installedVersions(home).get(name)).ifPresent(v -> System.out.println("  installed: " + v));
            for (CatalogIndex.Release r : app.releases()) {
                System.out.printf("  %s  needs Hearth %s, images %s (%s)%n", r.version(), r.minHearth(),
                        r.images().stream().map(i -> i.arch() + " " + (i.archive().size() >> 20) + " MiB")
                                .collect(Collectors.joining(", ")),
                        r.images().get(0).contents().stream().map(CatalogIndex.Image::ref).collect(Collectors.joining(", ")));
                r.notes().ifPresent(n -> n.lines().forEach(l -> System.out.println("      " + l)));
            }
            return 0;
        }
    }

    @Command(name = "refresh", mixinStandardHelpOptions = true,
            description = "Fetch each catalog's index and keep it if its signature, expiry and version hold.")
    static final class Refresh implements Callable<Integer> {
        @ParentCommand
        CatalogCommand catalog;

        @Override
        public Integer call() {
            int bad = 0;
            for (Catalogs.Refreshed r : catalogs(catalog.root.home()).refresh()) {
                if (r.problem().isPresent()) {
                    bad++;
                    System.out.printf("%s: refused: %s%s%n", r.source().name(), r.problem().get(),
                            r.before() > 0 ? " (keeping index " + r.before() + ")" : "");
                } else if (r.after() == r.before()) {
                    System.out.printf("%s: index %d, unchanged%n", r.source().name(), r.after());
                } else {
                    System.out.printf("%s: index %d%s%n", r.source().name(), r.after(), r.before() > 0 ? " (was " + r.before() + ")" : "");
                }
            }
            return bad == 0 ? 0 : 1;
        }
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Publish apps from manifest folders and the images built here as a signed catalog folder "
                    + "(releases already in it stay; the index's version goes up).")
    static final class Build implements Callable<Integer> {
        @ParentCommand
        CatalogCommand catalog;

        @Option(names = "--key", required = true, paramLabel = "FILE", description = "The catalog's signing key (hearth catalog key new).")
        Path key;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The catalog folder to write (serve it as it is).")
        Path out;

        @Option(names = "--name", defaultValue = "hearth", description = "The catalog's name (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--manifests", paramLabel = "DIR", description = "Where the apps' folders are (default: manifests/ of this checkout).")
        Path manifests;

        @Option(names = "--app", paramLabel = "NAME", description = "Publish only these apps (default: every folder with an app.yaml).")
        List<String> apps;

        @Option(names = "--days", defaultValue = "30", description = "How long the index is valid (default: ${DEFAULT-VALUE} days).")
        int days;

        @Option(names = "--republish", description = "Let a release already published change (development only).")
        boolean republish;

        @Option(names = "--arch", paramLabel = "ARCH", split = ",",
                description = "The architectures whose images each release carries, one archive each (default: this "
                        + "machine's; build another's first with hearth images build --arch ARCH).")
        List<String> arches;

        @Override
        public Integer call() throws Exception {
            HearthHome home = catalog.root.home();
            Path from = manifests != null ? manifests : home.root().resolve("manifests");
            List<Path> folders = new ArrayList<>();
            if (apps != null) {
                apps.forEach(a -> folders.add(from.resolve(a)));
            } else {
                folders.addAll(CatalogPublisher.appFolders(from));
            }
            for (Path f : folders) {
                if (!Files.isRegularFile(f.resolve("app.yaml"))) {
                    throw new IllegalArgumentException("no app.yaml in " + f);
                }
            }
            CatalogIndex index;
            try (Engine engine = Engine.connect()) {
                index = new CatalogPublisher(engine.client(), Clock.systemUTC(), System.out::println)
                        .publish(name, folders, out, CatalogKey.Signing.read(key), Duration.ofDays(days), republish,
                                arches == null ? List.of(ImagePlatform.host()) : arches.stream().map(ImagePlatform::named).toList());
            }
            System.out.printf("catalog %s: index %d in %s, %d apps, signed by %s, expires %s%n", index.catalog(), index.version(), out,
                    index.apps().size(), CatalogKey.Signing.read(key).publicKey().id(), index.expires());
            return 0;
        }
    }

    @Command(name = "key", mixinStandardHelpOptions = true, description = "A catalog's signing keys.",
            subcommands = {CatalogCommand.Key.New.class, CatalogCommand.Key.Rollover.class})
    static final class Key {

        @Command(name = "new", mixinStandardHelpOptions = true,
                description = "Make a signing key (readable by its owner alone) and print the public key boxes pin.")
        static final class New implements Callable<Integer> {
            @Option(names = "--out", required = true, paramLabel = "FILE")
            Path out;

            @Override
            public Integer call() throws Exception {
                CatalogKey.Signing key = CatalogKey.Signing.generate();
                key.write(out);
                System.out.println(key.publicKey() + "   (id " + key.publicKey().id() + "; pin it in appliance.yaml catalog.sources[].keys)");
                return 0;
            }
        }

        @Command(name = "rollover", mixinStandardHelpOptions = true,
                description = "Sign, with the current key, that a new key signs the catalog from now on (added to DIR/keys.json); "
                        + "then build with the new key.")
        static final class Rollover implements Callable<Integer> {
            @Option(names = "--key", required = true, paramLabel = "FILE", description = "The key in use now.")
            Path key;

            @Option(names = "--to", required = true, paramLabel = "ed25519:BASE64", description = "The new key's public key.")
            String to;

            @Option(names = "--out", required = true, paramLabel = "DIR")
            Path out;

            @Option(names = "--name", defaultValue = "hearth")
            String name;

            @Override
            public Integer call() throws Exception {
                CatalogPublisher.rollover(name, out, CatalogKey.Signing.read(key), CatalogKey.Public.parse(to), Clock.systemUTC());
                System.out.println("catalog " + name + ": key " + CatalogKey.Signing.read(key).publicKey().id() + " hands over to "
                        + CatalogKey.Public.parse(to).id() + " (" + out.resolve("keys.json") + ")");
                return 0;
            }
        }
    }

    private static String where(Catalogs.Held h) {
        return h.source().url().map(Object::toString).orElseGet(() -> h.source().path().map(Path::toString).orElse(""));
    }

    private static Map<String, String> installedVersions(HearthHome home) {
        return new InstalledApps(home.stateDir("apps")).list().stream().filter(i -> i.manifest().isPresent())
                .collect(Collectors.toMap(InstalledApps.Installed::app, i -> i.manifest().map(AppManifest::version).orElse("?")));
    }
}
