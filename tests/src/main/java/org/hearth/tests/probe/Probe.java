package org.hearth.tests.probe;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
            System.err.println("usage: probe identity | write PATH... | write-and-fail CODE PATH... | echo-server PORT... | connect HOST PORT | sleep"
                    + " | obedient-server PORT | resolve NAME | security-providers");
            System.exit(2);
        }
        switch (args[0]) {
            case "identity" -> identity();
            case "echo-server" -> {
                // A server that takes a while before it listens, as a JVM mail server does.
                String delay = System.getenv().getOrDefault("ECHO_DELAY_MS", "0");
                try {
                    Thread.sleep(Long.parseLong(delay));
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 2; i < args.length; i++) {
                    int port = Integer.parseInt(args[i]);
                    Thread t = new Thread(() -> echoServer(port));
                    t.setDaemon(true);
                    t.start();
                }
                echoServer(Integer.parseInt(args[1]));
            }
            case "connect" -> connect(args[1], Integer.parseInt(args[2]));
            case "resolve" -> resolve(args[1]);
            case "security-providers" -> securityProviders();
            case "sleep" -> sleepForever();
            case "obedient-server" -> obedientServer(Integer.parseInt(args[1]));
            case "write" -> {
                for (int i = 1; i < args.length; i++) {
                    write(Path.of(args[i]));
                }
            }
            case "write-and-fail" -> {
                for (int i = 2; i < args.length; i++) {
                    write(Path.of(args[i]));
                }
                System.err.println("probe: wrote and failed on purpose");
                System.exit(Integer.parseInt(args[1]));
            }
            default -> {
                System.err.println("probe: unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    /** Each provider the runtime's java.security lists, and whether the JCA has it. */
    private static void securityProviders() {
        for (int i = 1; java.security.Security.getProperty("security.provider." + i) != null; i++) {
            String name = java.security.Security.getProperty("security.provider." + i).strip().split("\\s+")[0];
            System.out.println(name + "=" + (java.security.Security.getProvider(name) != null ? "loaded" : "missing"));
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

    /**
     * Plays an exploited daemon: it does whatever each connection tells it, one command per line,
     * so a test can act as an attacker inside the container that served its connection.
     * Commands: {@code host} (the container's hostname), {@code write PATH TEXT}, {@code read PATH},
     * {@code spawn MARKER} (starts a separate process that would run forever).
     */
    private static void obedientServer(int port) throws IOException {
        try (ServerSocket server = new ServerSocket(port)) {
            System.out.println("obedient-server ready on " + port);
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> obey(s));
                t.setDaemon(true);
                t.start();
            }
        }
    }

    private static void obey(Socket s) {
        try (s; var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             var out = new java.io.PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8)) {
            out.println("ready");
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.split(" ", 3);
                try {
                    switch (w[0]) {
                        case "host" -> out.println(Files.readString(Path.of("/etc/hostname")).strip());
                        case "write" -> {
                            Files.writeString(Path.of(w[1]), w[2]);
                            out.println("written");
                        }
                        case "read" -> out.println(Files.exists(Path.of(w[1])) ? Files.readString(Path.of(w[1])) : "absent");
                        case "spawn" -> {
                            Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp", "/app",
                                    Probe.class.getName(), "sleep", w[1]).redirectErrorStream(true).start();
                            out.println("spawned " + p.pid());
                        }
                        default -> out.println("unknown " + w[0]);
                    }
                } catch (IOException | RuntimeException e) {
                    out.println("error " + e.getMessage());
                }
            }
        } catch (IOException e) {
            // The connection ended: nothing left to obey.
        }
    }

    /** Echoes every byte back on one port, one thread per connection, until killed. */
    private static void echoServer(int port) {
        try (ServerSocket server = new ServerSocket(port)) {
            System.out.println("echo-server ready on " + port);
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException e) {
                        // The client went away: nothing to echo.
                    }
                });
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            System.out.println("echo-server failed on " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Tries one TCP connection and an echo round trip. "=failed" means no connection was made;
     * "=connected" means one was, but no echo came back; "=ok" means both.
     */
    private static void connect(String host, int port) {
        String key = "connect " + host + ":" + port;
        try (Socket s = new Socket()) {
            try {
                s.connect(new InetSocketAddress(host, port), 3000);
            } catch (IOException e) {
                System.out.println(key + "=failed " + e.getClass().getSimpleName() + ": " + e.getMessage());
                return;
            }
            try {
                s.setSoTimeout(3000);
                s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
                byte[] reply = s.getInputStream().readNBytes(5);
                System.out.println(key + "=ok " + new String(reply, StandardCharsets.US_ASCII).strip());
            } catch (IOException e) {
                System.out.println(key + "=connected " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        } catch (IOException e) {
            System.out.println(key + "=failed " + e.getMessage());
        }
    }

    /** Looks a name up the way any program in the container would (its resolv.conf, the engine's resolver). */
    private static void resolve(String name) {
        try {
            System.out.println("resolve " + name + "=" + java.net.InetAddress.getByName(name).getHostAddress());
        } catch (IOException e) {
            System.out.println("resolve " + name + "=failed " + e.getClass().getSimpleName());
        }
    }

    private static void sleepForever() {
        System.out.println("sleeping");
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                return;
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
