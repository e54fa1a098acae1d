package org.hearth.tests.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs inside test containers and reports what the process may do, so tests check the
 * container's real powers rather than the engine's description of them.
 * Output is one {@code key=value} line per fact.
 */
public final class Probe {

    private Probe() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: probe identity | write PATH...");
            System.exit(2);
        }
        switch (args[0]) {
            case "identity" -> identity();
            case "write" -> {
                for (int i = 1; i < args.length; i++) {
                    write(Path.of(args[i]));
                }
            }
            default -> {
                System.err.println("probe: unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    /** The kernel's view of this process: ids, capabilities, no-new-privileges. */
    private static void identity() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            String[] kv = line.split(":\\s*", 2);
            switch (kv[0]) {
                case "Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs" ->
                        System.out.println(kv[0] + "=" + kv[1].trim().split("\\s+")[0]);
                default -> {
                }
            }
        }
    }

    private static void write(Path path) {
        try {
            Files.writeString(path, "probe");
            System.out.println("write " + path + "=ok");
        } catch (IOException e) {
            System.out.println("write " + path + "=denied " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
