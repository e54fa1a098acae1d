package org.hearth.core.cli;

import org.hearth.core.HearthHome;
import org.hearth.core.image.ImageBuilder;
import org.hearth.core.runtime.Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Bring Hearth up on this machine: the container engine, the images, the supervisor and the installed apps.")
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    @Override
    public Integer call() throws Exception {
        HearthHome home = root.home();
        System.out.println("demo: starting the container engine (scripts/engine-up)");
        Process up = new ProcessBuilder("bash", home.scripts().resolve("engine-up").toString(), home.state().toString())
                .inheritIO().start();
        if (up.waitFor() != 0) {
            throw new IllegalStateException("scripts/engine-up failed; see " + home.state().resolve("dockerd.log"));
        }
        try (Engine engine = Engine.connect()) {
            var version = engine.version();
            List<ImageBuilder.Result> images = ImagesCommand.buildAll(engine, root);
            long pid = UpCommand.ensureRunning(home, "127.0.0.1", "loopback");
            System.out.println();
            System.out.println("Hearth demo is up.");
            System.out.printf("  engine      Docker %s (API %s), log %s%n", version.getVersion(), version.getApiVersion(),
                    home.state().resolve("dockerd.log"));
            for (ImageBuilder.Result image : images) {
                System.out.printf("  image       %-28s %4d MB%n", image.tag(), image.sizeBytes() >> 20);
            }
            System.out.printf("  supervisor  pid %d, log %s%n", pid, home.state().resolve("logs/supervisor.log"));
            System.out.println("  overlay     loopback (development only): private ports on 127.0.0.2, public on 127.0.0.1");
            System.out.println("  apps        none in the catalog yet: the mail app is not part of this build");
            System.out.println("  next        ./hearth status    ./hearth app install PATH    ./hearth down");
        }
        return 0;
    }
}
