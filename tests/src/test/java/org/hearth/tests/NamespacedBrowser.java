package org.hearth.tests;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's Chromium, driven by Playwright, in a network namespace of its own where each given
 * address:port leads (through a UNIX socket and two socats) to the same address:port on this
 * machine (for an address of the simulated internet: through its routers, as the phone would). Chromium drops every request in flight when the network it sees changes
 * (net::ERR_NETWORK_CHANGED), and the test classes beside this one make and remove engine networks
 * all the time; in here it sees none of that. Playwright talks to it over pipes, which cross namespaces.
 */
final class NamespacedBrowser implements AutoCloseable {

    final Browser browser;
    private final Playwright playwright;
    private final String namespace;
    private final List<Process> forwarders;

    private NamespacedBrowser(Playwright playwright, Browser browser, String namespace, List<Process> forwarders) {
        this.playwright = playwright;
        this.browser = browser;
        this.namespace = namespace;
        this.forwarders = forwarders;
    }

    /** @param logs where the forwarders' logs and the launcher go (a test's state folder) */
    static NamespacedBrowser start(Path logs, List<InetSocketAddress> reachable) throws Exception {
        String namespace = "hearth-browser-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime() & 0xffff);
        for (List<String> cmd : List.of(List.of("ip", "netns", "add", namespace),
                List.of("ip", "-n", namespace, "link", "set", "lo", "up"))) {
            ClientProcess.Result r = ClientProcess.run(cmd, Duration.ofSeconds(10));
            assertThat(r.exitCode()).as(String.join(" ", cmd) + ": " + r.stderr()).isZero();
        }
        List<Process> forwarders = new ArrayList<>();
        try {
            // Short: a UNIX socket's path has at most 107 bytes, and a checkout's state folder can be deep.
            Path sockets = Files.createTempDirectory("hearth-browser");
            List<String> secureOrigins = new ArrayList<>();
            for (InetSocketAddress to : reachable) {
                String host = to.getAddress().getHostAddress();
                if (!to.getAddress().isLoopbackAddress()) {
                    // An address of the simulated internet: the namespace holds it too, and pages from it
                    // count as a secure context (WebCrypto), as they would over HTTPS.
                    ClientProcess.Result r = ClientProcess.run(List.of("ip", "-n", namespace, "addr", "add", host + "/32", "dev", "lo"),
                            Duration.ofSeconds(10));
                    assertThat(r.exitCode()).as("adding " + host + ": " + r.stderr()).isZero();
                    secureOrigins.add("http://" + host + ":" + to.getPort());
                }
                Path socket = sockets.resolve(forwarders.size() + ".sock");
                forwarders.add(new ProcessBuilder("socat", "UNIX-LISTEN:" + socket + ",fork,mode=600",
                        "TCP:" + host + ":" + to.getPort()).redirectErrorStream(true)
                        .redirectOutput(logs.resolve("socat-host-" + host + "-" + to.getPort() + ".log").toFile()).start());
                forwarders.add(new ProcessBuilder("ip", "netns", "exec", namespace, "socat",
                        "TCP-LISTEN:" + to.getPort() + ",bind=" + host + ",fork,reuseaddr", "UNIX-CONNECT:" + socket)
                        .redirectErrorStream(true).redirectOutput(logs.resolve("socat-browser-" + host + "-" + to.getPort() + ".log").toFile())
                        .start());
                // Both ends up before the browser starts: the host's socket there, the namespace's port answering.
                Await.until(Duration.ofSeconds(60), () -> "socat for " + to + " did not come up", () -> {
                    if (!Files.exists(socket)) {
                        return Optional.empty();
                    }
                    ClientProcess.Result r = ClientProcess.run(List.of("ip", "netns", "exec", namespace, "python3", "-c",
                            "import socket; socket.create_connection(('" + host + "'," + to.getPort() + "),3).close()"),
                            Duration.ofSeconds(10));
                    return r.exitCode() == 0 ? Optional.of(true) : Optional.empty();
                });
            }
            assertThat(forwarders).allSatisfy(p -> assertThat(p.isAlive()).isTrue());
            Path launcher = logs.resolve("chromium-in-its-own-network");
            Files.writeString(launcher, "#!/bin/sh\nexec ip netns exec " + namespace + " /usr/bin/chromium \"$@\"\n");
            launcher.toFile().setExecutable(true);
            Playwright playwright = Playwright.create(new Playwright.CreateOptions()
                    .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
            List<String> args = new ArrayList<>(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"));
            if (!secureOrigins.isEmpty()) {
                args.add("--unsafely-treat-insecure-origin-as-secure=" + String.join(",", secureOrigins));
            }
            Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(launcher)
                    .setHeadless(true).setArgs(args));
            return new NamespacedBrowser(playwright, browser, namespace, forwarders);
        } catch (Exception | AssertionError e) {
            // Nothing of a browser that did not start outlives it.
            forwarders.forEach(Process::destroy);
            ClientProcess.run(List.of("ip", "netns", "del", namespace), Duration.ofSeconds(10));
            throw e;
        }
    }

    @Override
    public void close() {
        browser.close();
        playwright.close();
        forwarders.forEach(Process::destroy);
        ClientProcess.run(List.of("ip", "netns", "del", namespace), Duration.ofSeconds(10));
    }
}
