package org.hearth.core.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Makes sure Podman's network resolver, aardvark-dns, answers a network's own names and passes no
 * other name on. Debian 12's aardvark-dns 1.4 sends every name it does not know to the host's
 * resolvers, from the host, internal networks included: a container on a network with no way out
 * could still tell the world whatever it encodes in a name. It passes nothing on when started with
 * {@code AARDVARK_NO_PROXY} in its environment, which it takes from Podman's service (through
 * netavark): scripts/podman-up and the card's podman.service set it. Checked once per aardvark-dns
 * process; netavark starts one when a network with names gets its first container.
 */
final class AardvarkDns {

    static final String NO_PROXY = "AARDVARK_NO_PROXY";
    /** Where netavark keeps aardvark-dns's configuration and pid for Podman run as root. */
    static final Path CONFIG = Path.of("/run/containers/networks/aardvark-dns");

    private final Path config;
    private final Path proc;
    private volatile String checkedPid = "";

    AardvarkDns(Path config, Path proc) {
        this.config = config;
        this.proc = proc;
    }

    static AardvarkDns onThisHost() {
        return new AardvarkDns(CONFIG, Path.of("/proc"));
    }

    /**
     * Returns when no aardvark-dns runs or the one running passes no name on; otherwise says which
     * process forwards and how to stop it.
     */
    void check() {
        Optional<String> pid = pid();
        if (pid.isEmpty() || pid.get().equals(checkedPid)) {
            return;
        }
        Path environ = proc.resolve(pid.get()).resolve("environ");
        byte[] bytes;
        try {
            // A pid left from an aardvark-dns that exited may name another program by now.
            if (!Files.readString(proc.resolve(pid.get()).resolve("comm")).strip().equals("aardvark-dns")) {
                return;
            }
            bytes = Files.readAllBytes(environ);
        } catch (NoSuchFileException gone) {
            return;  // exited since its pid was written: the next one is checked when it runs
        } catch (IOException e) {
            throw new EngineException("cannot read " + environ + " to check that aardvark-dns (Podman's network"
                    + " resolver) passes no name to the host's resolvers: " + e.getMessage(), e);
        }
        boolean noProxy = Arrays.stream(new String(bytes, StandardCharsets.UTF_8).split("\0"))
                .anyMatch(v -> v.startsWith(NO_PROXY + "="));
        if (!noProxy) {
            throw new EngineException("aardvark-dns (pid " + pid.get() + ", Podman's network resolver) sends names it"
                    + " does not know to the host's resolvers, from internal networks too: restart Podman's service with "
                    + NO_PROXY + "=1 in its environment (scripts/podman-up does; on the appliance, podman.service) and"
                    + " stop every container, so that netavark starts a new aardvark-dns");
        }
        checkedPid = pid.get();
    }

    private Optional<String> pid() {
        Path file = config.resolve("aardvark.pid");
        try {
            String pid = Files.readString(file).strip();
            if (pid.isEmpty()) {
                return Optional.empty();  // being written: netavark's next start is checked again
            }
            if (!pid.matches("[0-9]+")) {
                throw new EngineException(file + " holds \"" + pid + "\", not a process id");
            }
            return Optional.of(pid);
        } catch (NoSuchFileException none) {
            return Optional.empty();
        } catch (IOException e) {
            throw new EngineException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
