package org.hearth.core.runtime;

import java.time.Duration;

/** The container engine as Hearth needs it. Every container it creates is hardened. */
public interface ContainerRuntime {

    /** Creates (does not start) a hardened container; refuses images or users that would run as root. */
    String create(ContainerSpec spec);

    void start(String containerId);

    /** Waits for the container to exit and returns its exit code. */
    int awaitExit(String containerId, Duration timeout);

    /** Standard output and standard error, as separate strings. */
    Output output(String containerId);

    /** Removes the container, its anonymous volumes and its tmpfs; absent containers are fine. */
    void remove(String containerId);

    record Output(String stdout, String stderr) {
    }

    record Run(String containerId, int exitCode, Output output) {
    }

    /** Runs a container to completion and removes it. */
    default Run run(ContainerSpec spec, Duration timeout) {
        String id = create(spec);
        try {
            start(id);
            int code = awaitExit(id, timeout);
            return new Run(id, code, output(id));
        } finally {
            remove(id);
        }
    }
}
