package org.hearth.core.supervisor;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The mail app's users, aliases and domains: the store image's own admin program, run inside the
 * running store container (a new password on its standard input, never an argument). Changes take
 * effect without a restart.
 */
final class MailStoreAdmin {

    /** The store's role in the mail manifest. */
    static final String STORE = "imap";
    /** The admin program in the store image (see image-build/images/mail-imap/Dockerfile). */
    // A small heap: it shares the store container's memory limit with the running server.
    private static final List<String> ADMIN = List.of("java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xmx32m", "-XX:-UsePerfData",
            "-cp", "/app/app.jar:/app/lib/*", "org.hearth.mail.store.MailAdmin");
    private static final List<String> NOUNS = List.of("user", "alias", "domain");

    private final ContainerRuntime runtime;
    private final String instance;

    MailStoreAdmin(ContainerRuntime runtime, String instance) {
        this.runtime = runtime;
        this.instance = instance;
    }

    /** What the admin program printed; its refusal (on its standard error) as an exception. */
    String run(String app, List<String> args, String stdin) {
        if (args.isEmpty() || !NOUNS.contains(args.get(0))) {
            throw new IllegalArgumentException("mail admin: the first word must be one of " + String.join(", ", NOUNS));
        }
        ContainerRuntime.ContainerInfo store = runtime.containers(Map.of(HearthLabels.MANAGED, "true",
                        HearthLabels.INSTANCE, instance, HearthLabels.APP, app, HearthLabels.ROLE, STORE))
                .stream().filter(ContainerRuntime.ContainerInfo::running).findFirst()
                .orElseThrow(() -> new IllegalStateException("the " + app + " app is not running here"
                        + " (hearth app install mail, hearth unlock)"));
        List<String> cmd = new ArrayList<>(ADMIN);
        cmd.addAll(args);
        ContainerRuntime.Run run = runtime.exec(store.id(), cmd, stdin.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60));
        if (run.exitCode() != 0) {
            String why = run.output().stderr().strip();
            throw new IllegalArgumentException(why.isEmpty() ? "the mail admin program exited " + run.exitCode() : why);
        }
        return run.output().stdout();
    }
}
