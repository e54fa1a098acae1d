package org.hearth.core.supervisor;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.HearthLabels;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The mail app's administration, run inside its running containers by their own admin programs:
 * users, aliases and domains in the store (a new password on its standard input, never an
 * argument), DNS records, DKIM keys and the queue in outbound (which hands them to its running
 * service). Changes take effect without a restart.
 */
final class MailAppAdmin {

    /** The store's role in the mail manifest. */
    static final String STORE = "imap";
    static final String OUTBOUND = "outbound";
    // Small heaps: each shares its container's memory limit with the running server.
    private static final List<String> STORE_ADMIN = List.of("java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xmx32m", "-XX:-UsePerfData",
            "-cp", "/app/app.jar:/app/lib/*", "org.hearth.mail.store.MailAdmin");
    private static final List<String> OUTBOUND_ADMIN = List.of("java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xmx16m", "-XX:-UsePerfData",
            "-cp", "/app/app.jar:/app/lib/*", "org.hearth.mail.outbound.admin.AdminSocket");
    /** Which container's program answers each noun. */
    private static final Map<String, String> ROLE_OF_NOUN = Map.of("user", STORE, "alias", STORE, "domain", STORE,
            "dns", OUTBOUND, "dkim", OUTBOUND, "queue", OUTBOUND);

    private final ContainerRuntime runtime;
    private final String instance;

    MailAppAdmin(ContainerRuntime runtime, String instance) {
        this.runtime = runtime;
        this.instance = instance;
    }

    /** What the admin program printed; its refusal (on its standard error) as an exception. */
    String run(String app, List<String> args, String stdin) {
        String role = args.isEmpty() ? null : ROLE_OF_NOUN.get(args.get(0));
        if (role == null) {
            throw new IllegalArgumentException("mail admin: the first word must be one of "
                    + String.join(", ", new TreeSet<>(ROLE_OF_NOUN.keySet())));
        }
        ContainerRuntime.ContainerInfo container = runtime.containers(Map.of(HearthLabels.MANAGED, "true",
                        HearthLabels.INSTANCE, instance, HearthLabels.APP, app, HearthLabels.ROLE, role))
                .stream().filter(ContainerRuntime.ContainerInfo::running).findFirst()
                .orElseThrow(() -> new IllegalStateException("the " + app + " app's " + role + " container is not running"
                        + " here (hearth app install mail, hearth unlock)"));
        List<String> cmd = new ArrayList<>(role.equals(STORE) ? STORE_ADMIN : OUTBOUND_ADMIN);
        cmd.addAll(args);
        ContainerRuntime.Run run = runtime.exec(container.id(), cmd, stdin.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60));
        if (run.exitCode() != 0) {
            String why = run.output().stderr().strip();
            throw new IllegalArgumentException(why.isEmpty() ? "the mail admin program exited " + run.exitCode() : why);
        }
        return run.output().stdout();
    }
}
