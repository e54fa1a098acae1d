package org.hearth.core.cli;

import org.hearth.core.network.EdgeFirewall;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.supervisor.AppTeardown;
import org.hearth.core.supervisor.InstalledApps;
import org.hearth.core.supervisor.SupervisorProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Stop the supervisor and the apps' containers and close their encrypted volumes"
                + " (data and installed apps are kept; hearth unlock opens them again).")
final class DownCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    @Override
    public Integer call() throws Exception {
        var supervisor = SupervisorProcess.running(root.home());
        if (supervisor.isPresent()) {
            ProcessHandle p = supervisor.get();
            if (SupervisorProcess.stop(p)) {
                System.err.println("hearth: the supervisor did not stop within 60 s; killed it");
            }
            System.out.println("supervisor stopped (pid " + p.pid() + ")");
        }
        // Whether or not a supervisor was running (or it was killed), no app container is left
        // running, and then no firewall chain of this instance is left either.
        try (Engine engine = Engine.connect()) {
            engine.version();
            AppTeardown.stopAll(new DockerRuntime(engine), root.home().instanceId());
        }
        new EdgeFirewall(root.home().instanceId()).remove();
        // A supervisor that was killed could not close its volumes: none stays open after down.
        for (InstalledApps.Installed app : new InstalledApps(root.home().stateDir("apps")).list()) {
            if (app.manifest().isPresent()) {
                AppTeardown.releaseVolumes(root.home(), app.manifest().get(), false);
            }
        }
        System.out.println("apps stopped, volumes closed");
        return 0;
    }
}
