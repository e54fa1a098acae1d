package org.hearth.core.cli;

import org.hearth.core.network.EdgeFirewall;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.supervisor.AppTeardown;
import org.hearth.core.supervisor.SupervisorProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Stop the supervisor and the apps' containers (data and installed apps are kept).")
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
        Engine.Kind kind;
        try (Engine engine = Engine.connect()) {
            kind = engine.kind();
            AppTeardown.stopAll(new DockerRuntime(engine), root.home().instanceId());
        }
        AppTeardown.forgetSecrets(root.home().instanceId());
        new EdgeFirewall(root.home().instanceId(), kind).remove();
        System.out.println("apps stopped");
        return 0;
    }
}
