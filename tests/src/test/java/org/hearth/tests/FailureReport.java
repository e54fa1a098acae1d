package org.hearth.tests;

import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * When a test of an appliance fails, prints what its supervisor and its containers said last: the
 * suite removes the state folders and containers when it ends, so without this a failure seen
 * only in CI leaves nothing to read.
 */
final class FailureReport implements TestWatcher {

    private static final int LINES = 60;
    private static final Duration CONTAINER_LOGS = Duration.ofMinutes(3);

    private final Supplier<Path> state;
    private final Supplier<Engine> engine;

    FailureReport(Supplier<Path> state, Supplier<Engine> engine) {
        this.state = state;
        this.engine = engine;
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        Path folder = state.get();
        if (folder == null) {
            return;
        }
        StringBuilder report = new StringBuilder("failure report for " + context.getDisplayName() + "\n");
        try {
            report.append("supervisor log:\n").append(tail(Files.readAllLines(folder.resolve("logs/supervisor.log")))).append('\n');
        } catch (Exception e) {
            report.append("supervisor log unreadable: ").append(e).append('\n');
        }
        try {
            ContainerRuntime runtime = new DockerRuntime(engine.get());
            for (ContainerRuntime.ContainerInfo c : runtime.containers(Map.of(HearthLabels.INSTANCE, EngineFixture.instanceOf(folder)))) {
                report.append("container ").append(c.name()).append(c.running() ? " running" : " stopped, exit " + c.exitCode().orElse(-1))
                        .append(", started ").append(c.startedAt().map(Instant::toString).orElse("never")).append(":\n")
                        .append(tail(runtime.logsSince(c.id(), Instant.now().minus(CONTAINER_LOGS)).lines().toList())).append('\n');
            }
        } catch (Exception e) {
            report.append("containers unreadable: ").append(e).append('\n');
        }
        System.out.println(report);
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - LINES), lines.size()));
    }
}
