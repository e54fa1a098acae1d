package org.hearth.core.cli;

import org.hearth.core.HearthHome;
import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestException;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.supervisor.ControlRequest;
import org.hearth.core.supervisor.InstalledApps;
import org.hearth.core.supervisor.SupervisorStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "app", mixinStandardHelpOptions = true, description = "Validate, install, list and remove apps.",
        subcommands = {AppCommand.Validate.class, AppCommand.Install.class, AppCommand.Upgrade.class, AppCommand.Remove.class,
                AppCommand.ListApps.class, AppCommand.Admin.class})
final class AppCommand {

    @ParentCommand
    HearthCommand root;

    HearthHome home() {
        return root.home();
    }

    InstalledApps installed() {
        return new InstalledApps(home().stateDir("apps"));
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check manifests without touching the engine; every problem with file, line and field.")
    static final class Validate implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Parameters(paramLabel = "FILE", arity = "1..*")
        List<Path> files;

        @Override
        public Integer call() {
            int bad = 0;
            for (Path file : files) {
                try {
                    AppManifest m = ManifestReader.read(file);
                    System.out.printf("%s: ok (app %s %s, %d containers)%n", file, m.app(), m.version(), m.containers().size());
                } catch (ManifestException e) {
                    bad++;
                    System.out.println(e.getMessage());
                }
            }
            return bad == 0 ? 0 : 1;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Install an app by name from the configured catalogs (NAME or NAME@VERSION), or from a manifest file "
                    + "during development, then wait until it is healthy.")
    static final class Install implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Parameters(paramLabel = "NAME[@VERSION]|PATH")
        String source;

        @Option(names = "--no-wait",
                description = "Return once the app is recorded and its containers are started, without waiting for it to be healthy.")
        boolean noWait;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "180",
                description = "How long to wait for the app to be healthy (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            HearthHome home = app.home();
            Optional<Duration> wait = noWait ? Optional.empty() : Optional.of(Duration.ofSeconds(timeoutSeconds));
            if (Files.isRegularFile(Path.of(source))) {
                return install(home, source, Files.readString(Path.of(source)), wait);
            }
            if (!source.matches("[a-z][a-z0-9-]{0,30}(@[0-9A-Za-z.-]+)?")) {
                throw new IllegalArgumentException("no manifest file " + source + ", and not an app's name (NAME or NAME@VERSION)");
            }
            return CatalogCommand.install(home, source, wait);
        }
    }

    /**
     * Validates the manifest {@code text} here (from {@code file}, a path or a catalog's file, for
     * messages), then asks the running supervisor to check it against this machine and install it;
     * with a {@code wait}, waits for the supervisor to report the app healthy. Returns the exit code.
     */
    static int install(HearthHome home, String file, String text, Optional<Duration> wait) throws Exception {
        AppManifest manifest = ManifestReader.read(file, text);
        long start = System.nanoTime();
        String installed = ControlClient.message(home, new ControlRequest.InstallApp(file, text));
        if (wait.isEmpty()) {
            System.out.println(installed);
            return 0;
        }
        return awaitHealthy(home, manifest.app(), start, wait);
    }

    /** Waits, from {@code start} (nanoTime), for the supervisor to report the installed {@code app} healthy; returns the exit code. */
    static int awaitHealthy(HearthHome home, String app, long start, Optional<Duration> wait) throws Exception {
        if (wait.isEmpty()) {
            return 0;
        }
        AppManifest manifest = new InstalledApps(home.stateDir("apps")).list().stream().filter(i -> i.app().equals(app))
                .findFirst().flatMap(InstalledApps.Installed::manifest)
                .orElseThrow(() -> new IllegalStateException(app + " is not recorded as installed in " + home.stateDir("apps")));
        Instant deadline = Instant.now().plus(wait.get());
        Optional<SupervisorStatus.App> last = Optional.empty();
        LastingFailure failure = new LastingFailure();
        while (Instant.now().isBefore(deadline)) {
            Optional<SupervisorStatus> status = StatusCommand.current(home);
            last = status.flatMap(s -> s.app(manifest.app()));
            Optional<String> lasting = status.flatMap(s -> failure.seen(s.updatedAt(), s.app(manifest.app())));
            if (lasting.isPresent()) {
                System.err.println("hearth: " + manifest.app() + " is installed but failing: " + lasting.get()
                        + " (see hearth status)");
                return 1;
            }
            if (last.isPresent() && last.get().state() == SupervisorStatus.AppState.HEALTHY) {
                System.out.printf("installed %s %s: healthy in %.1f s%n", manifest.app(), manifest.version(),
                        (System.nanoTime() - start) / 1e9);
                last.get().endpoints().forEach(e -> System.out.printf("  %s/%s  %s  %s:%d%n",
                        e.container(), e.port(), e.exposure(), e.address(), e.listen()));
                return 0;
            }
            if (last.isPresent() && last.get().state() == SupervisorStatus.AppState.LOCKED) {
                System.out.printf("installed %s %s: storage is locked, it starts after hearth unlock%n",
                        manifest.app(), manifest.version());
                return 0;
            }
            Thread.sleep(100);
        }
        System.err.println("hearth: " + manifest.app() + " is installed but not healthy after " + wait.get().toSeconds()
                + " s: " + last.map(a -> a.state() + a.problem().map(p -> " (" + p + ")").orElse("")).orElse("not seen")
                + " (see hearth status)");
        return 1;
    }

    @Command(name = "upgrade", mixinStandardHelpOptions = true,
            description = "Upgrade an installed app from the catalogs (to VERSION, or the newest), or to a manifest file's version "
                    + "(development): its data copied aside, the new version started, and if it is not healthy in time, "
                    + "the old version and its data back.")
    static final class Upgrade implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Parameters(index = "0", paramLabel = "NAME|MANIFEST")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "VERSION")
        String version;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
                description = "How long the new version has to be healthy before it is rolled back (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            // A rollback comes back as the request's failure: its message on standard error, exit status 1.
            ControlRequest request;
            if (Files.isRegularFile(Path.of(name))) {
                if (version != null) {
                    throw new IllegalArgumentException("a manifest file names its own version: leave out " + version);
                }
                request = new ControlRequest.UpgradeFromManifest(name, Files.readString(Path.of(name)), timeoutSeconds);
            } else {
                request = new ControlRequest.UpgradeApp(name, Optional.ofNullable(version), timeoutSeconds);
            }
            System.out.println(ControlClient.message(app.home(), request));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove an app: its containers, networks and, unless --keep-data, its volumes.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--keep-data", description = "Keep the app's volumes for a later install.")
        boolean keepData;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.message(app.home(), new ControlRequest.RemoveApp(name, keepData)));
            return 0;
        }
    }

    @Command(name = "admin", mixinStandardHelpOptions = true,
            description = "Run one of an app's admin commands (its manifest's admin section), e.g. "
                    + "admin calendar user add alice --password. Standard input, when not a terminal, goes to the command.")
    static final class Admin implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Parameters(index = "0", paramLabel = "APP")
        String name;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "WORDS")
        List<String> words;

        @Option(names = "--password", description = "Ask for a new password (twice at a terminal) and give it to the command on its standard input.")
        boolean password;

        @Override
        public Integer call() throws Exception {
            byte[] stdin;
            if (password) {
                char[] typed = Secrets.read("new password", true, "password");
                stdin = (new String(typed) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                java.util.Arrays.fill(typed, '\0');
            } else {
                stdin = System.console() == null ? System.in.readAllBytes() : new byte[0];
            }
            try {
                System.out.print(ControlClient.message(app.home(), new ControlRequest.AppAdmin(name, List.copyOf(words),
                        new String(stdin, java.nio.charset.StandardCharsets.UTF_8))));
            } finally {
                java.util.Arrays.fill(stdin, (byte) 0);
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List installed apps and their state.")
    static final class ListApps implements Callable<Integer> {
        @ParentCommand
        AppCommand app;

        @Override
        public Integer call() {
            Optional<SupervisorStatus> status = StatusCommand.current(app.home());
            for (InstalledApps.Installed i : app.installed().list()) {
                String version = i.manifest().map(AppManifest::version).orElse("?");
                String state = status.filter(SupervisorStatus::running).flatMap(s -> s.app(i.app()))
                        .map(a -> a.state().label()).orElse("not running");
                System.out.printf("%-16s %-10s %s%s%n", i.app(), version, state, i.problem().map(p -> "  " + p).orElse(""));
            }
            return 0;
        }
    }

    /**
     * An app's failure that outlasts a few supervisor passes: install reports it instead of
     * waiting out its timeout, while a failure the next pass repairs (a network still being
     * created) is waited through.
     */
    static final class LastingFailure {
        /** Passes that must show the same failure before it counts as lasting (one pass a second). */
        static final int PASSES = 3;
        private String reason;
        private final java.util.Set<String> passes = new java.util.HashSet<>();

        /** @param pass the status's updatedAt: the same file read twice is one pass */
        Optional<String> seen(String pass, Optional<SupervisorStatus.App> app) {
            Optional<String> now = app.flatMap(LastingFailure::reasonOf);
            if (now.isEmpty()) {
                reason = null;
                passes.clear();
                return Optional.empty();
            }
            if (!now.get().equals(reason)) {
                reason = now.get();
                passes.clear();
            }
            passes.add(pass);
            return passes.size() >= PASSES ? now : Optional.empty();
        }

        static Optional<String> reasonOf(SupervisorStatus.App app) {
            if (app.state() != SupervisorStatus.AppState.FAILING) {
                return Optional.empty();
            }
            return app.problem()
                    .or(() -> app.containers().stream().filter(c -> c.problem().isPresent()).findFirst()
                            .map(c -> "container " + c.name() + ": " + c.problem().get()))
                    .or(() -> app.containers().stream().filter(c -> c.health() == SupervisorStatus.Health.CRASH_LOOPING).findFirst()
                            .map(c -> "container " + c.name() + " is crash-looping (restarts: " + c.restarts() + ")"))
                    .or(() -> Optional.of("failing"));
        }
    }
}
