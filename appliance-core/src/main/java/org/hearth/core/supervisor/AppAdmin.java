package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * An app's administration, as its manifest's {@code admin} section declares it: the first word names
 * the command, which runs inside the app's running container with every word as its arguments and
 * the owner's standard input on its own (a new password never becomes an argument). The mail app's
 * users, domains, DNS records, DKIM keys and queue, the calendar app's users: the supervisor knows
 * neither, only the manifest's table.
 */
final class AppAdmin {

    private final ContainerRuntime runtime;
    private final InstalledApps apps;
    private final String instance;

    AppAdmin(ContainerRuntime runtime, InstalledApps apps, String instance) {
        this.runtime = runtime;
        this.apps = apps;
        this.instance = instance;
    }

    /** What the admin command printed; its refusal (on its standard error) as an exception. */
    String run(String app, List<String> args, String stdin) {
        AppManifest manifest = apps.list().stream().filter(i -> i.app().equals(app)).findFirst()
                .flatMap(InstalledApps.Installed::manifest)
                .orElseThrow(() -> new IllegalArgumentException("no app " + app + " is installed (hearth app list)"));
        AppManifest.Admin admin = args.isEmpty() ? null : manifest.admin().get(args.get(0));
        if (admin == null) {
            throw new IllegalArgumentException(manifest.admin().isEmpty() ? app + " declares no admin commands"
                    : app + ": the first word must be one of " + String.join(", ", new TreeSet<>(manifest.admin().keySet())));
        }
        ContainerRuntime.ContainerInfo container = runtime.containers(Map.of(HearthLabels.MANAGED, "true",
                        HearthLabels.INSTANCE, instance, HearthLabels.APP, app, HearthLabels.ROLE, admin.container()))
                .stream().filter(ContainerRuntime.ContainerInfo::running).findFirst()
                .orElseThrow(() -> new IllegalStateException("the " + app + " app's " + admin.container()
                        + " container is not running here (hearth status; hearth unlock after a restart)"));
        List<String> cmd = new ArrayList<>(admin.command());
        cmd.addAll(args);
        ContainerRuntime.Run run = runtime.exec(container.id(), cmd, stdin.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
        if (run.exitCode() != 0) {
            String why = run.output().stderr().strip();
            throw new IllegalArgumentException(why.isEmpty() ? app + "'s " + args.get(0) + " command exited " + run.exitCode() : why);
        }
        return run.output().stdout();
    }
}
