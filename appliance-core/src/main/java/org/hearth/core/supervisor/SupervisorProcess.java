package org.hearth.core.supervisor;

import org.hearth.core.HearthHome;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/** The supervisor as an operating-system process: one per state folder, found by its pid file. */
public final class SupervisorProcess {

    private SupervisorProcess() {
    }

    static Path pidFile(HearthHome home) {
        return home.state().resolve("supervisor.pid");
    }

    /** The running supervisor of this state folder, if any. */
    public static Optional<ProcessHandle> running(HearthHome home) {
        Path pid = pidFile(home);
        if (!Files.isRegularFile(pid)) {
            return Optional.empty();
        }
        try {
            long value = Long.parseLong(Files.readString(pid).strip());
            return ProcessHandle.of(value).filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(true));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Asks a supervisor to stop (SIGTERM: listeners and the overlay close) and waits up to 60 s,
     * then kills it; returns whether it had to be killed.
     */
    public static boolean stop(ProcessHandle supervisor) throws InterruptedException, ExecutionException {
        supervisor.destroy();
        try {
            supervisor.onExit().get(60, TimeUnit.SECONDS);
            return false;
        } catch (TimeoutException e) {
            supervisor.destroyForcibly();
            return true;
        }
    }

    /**
     * Runs {@code supervisor} in this process until it is told to stop (SIGTERM from hearth down,
     * or Ctrl-C): then the listeners close and the apps' containers stop.
     */
    public static void runForeground(HearthHome home, Supervisor supervisor) {
        Path lockFile = home.state().resolve("supervisor.lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = channel.tryLock()) {
            if (lock == null) {
                throw new IllegalStateException("a supervisor already runs for " + home.state()
                        + running(home).map(p -> " (pid " + p.pid() + ")").orElse(""));
            }
            Files.writeString(pidFile(home), ProcessHandle.current().pid() + "\n");
            Thread main = Thread.currentThread();
            AtomicBoolean signalled = new AtomicBoolean();
            Thread hook = new Thread(() -> {
                signalled.set(true);
                supervisor.stop();
                supervisor.shutdown(true);
                try {
                    main.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "supervisor-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            supervisor.run();
            if (signalled.get()) {
                // The caller closes the engine connection next: not while the hook still stops containers with it.
                supervisor.awaitShutdown(Duration.ofSeconds(60));
            }
            Files.deleteIfExists(pidFile(home));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the supervisor in " + home.state(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
