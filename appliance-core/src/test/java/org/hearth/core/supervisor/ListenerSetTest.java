package org.hearth.core.supervisor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A service listener's connections while its container is replaced, against real sockets on
 * loopback: they wait for the successor instead of being turned away or sent to the old address.
 */
class ListenerSetTest {

    private static final String KEY = "mail/outbound/submission";
    private static final String REFUSAL = "421 try again later\r\n";

    private final WarmPools pools = new WarmPools();
    private final ListenerSet listeners = new ListenerSet(pools);
    private final List<ServerSocket> servers = new ArrayList<>();
    private int listen;

    @AfterEach
    void close() throws IOException {
        listeners.close();
        listeners.cutConnections();
        pools.close();
        for (ServerSocket s : servers) {
            s.close();
        }
    }

    @Test
    void aConnectionToAServiceWhoseContainerIsStartingWaitsAndIsServedOnceItServes() throws Exception {
        open();
        listeners.starting(KEY);
        CompletableFuture<String> heard = CompletableFuture.supplyAsync(this::connectAndRead);
        Thread.sleep(700);
        assertThat(heard).as("still waiting for the container").isNotDone();

        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 new")));

        assertThat(heard.get(10, TimeUnit.SECONDS)).isEqualTo("220 new");
    }

    @Test
    void aConnectionToAServiceWithNothingRunningIsTurnedAwayAtOnce() throws Exception {
        open();
        long start = System.nanoTime();

        assertThat(connectAndRead()).isEqualTo(REFUSAL.strip());
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("not held for its %s", ListenerSet.HOLD)
                .isLessThan(10_000);
    }

    @Test
    void aContainerAboutToBeReplacedGetsNoMoreConnectionsTheyWaitForItsSuccessor() throws Exception {
        open();
        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 old")));
        assertThat(connectAndRead()).isEqualTo("220 old");

        assertThat(listeners.startingInsteadOf(Set.of("127.0.0.1"))).containsOnlyKeys(KEY);
        CompletableFuture<String> heard = CompletableFuture.supplyAsync(this::connectAndRead);
        Thread.sleep(700);
        assertThat(heard).isNotDone();
        listeners.target(KEY, Optional.of(greeter("127.0.0.2", "220 new")));

        assertThat(heard.get(10, TimeUnit.SECONDS)).isEqualTo("220 new");
    }

    @Test
    void aContainerThatCouldNotBeRemovedKeepsItsConnections() throws Exception {
        open();
        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 old")));
        var held = listeners.startingInsteadOf(Set.of("127.0.0.1"));

        listeners.restore(held);

        assertThat(connectAndRead()).isEqualTo("220 old");
    }

    @Test
    void aListenerReopenedWithOtherSettingsKeepsTheTargetTheServicesStepSet() throws Exception {
        open();
        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 served")));

        // The same upstream on another port (an install that moved it): a new listener, same target.
        listen = freePort();
        assertThat(listeners.sync(List.of(desired()), Set.of(), "no overlay")).isEmpty();

        assertThat(connectAndRead()).isEqualTo("220 served");
    }

    @Test
    void aContainerThatStopsWhileConnectionsWaitTurnsThemAway() throws Exception {
        open();
        listeners.starting(KEY);
        CompletableFuture<String> heard = CompletableFuture.supplyAsync(this::connectAndRead);
        Thread.sleep(500);

        listeners.target(KEY, Optional.empty());

        assertThat(heard.get(10, TimeUnit.SECONDS)).isEqualTo(REFUSAL.strip());
    }

    @Test
    void aConnectionToAServiceStoppedForBeingIdleAsksForItAndIsServedOnceItIsBack() throws Exception {
        open();
        listeners.asleep(KEY);
        assertThat(listeners.wanted(KEY)).isFalse();

        CompletableFuture<String> heard = CompletableFuture.supplyAsync(this::connectAndRead);
        until(() -> listeners.wanted(KEY), 10_000);
        assertThat(heard).as("held while it starts").isNotDone();
        listeners.starting(KEY);
        assertThat(listeners.wanted(KEY)).as("asked for once, until it sleeps again").isFalse();
        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 awake")));

        assertThat(heard.get(10, TimeUnit.SECONDS)).isEqualTo("220 awake");
    }

    @Test
    void aServiceSleepsOnlyWhenNoConnectionIsOpenAndNoneEndedSinceTheCutoff() throws Exception {
        open();
        ServerSocket quiet = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        servers.add(quiet);
        listeners.target(KEY, Optional.of((InetSocketAddress) quiet.getLocalSocketAddress()));

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listen); Socket served = quiet.accept()) {
            assertThat(listeners.sleepIfUnusedSince(List.of(KEY), Instant.now().plusSeconds(60)))
                    .as("a connection is open").isFalse();
        }
        assertThat(listeners.sleepIfUnusedSince(List.of(KEY), Instant.now().minusSeconds(60)))
                .as("used within the last minute").isFalse();
        // Once the connection's end is counted, it was not used since a second from now.
        until(() -> listeners.sleepIfUnusedSince(List.of(KEY), Instant.now().plusSeconds(1)), 10_000);

        // Asleep now: the next connection is held and asks for it.
        CompletableFuture<String> heard = CompletableFuture.supplyAsync(this::connectAndRead);
        until(() -> listeners.wanted(KEY), 10_000);
        listeners.target(KEY, Optional.of(greeter("127.0.0.1", "220 awake")));
        assertThat(heard.get(10, TimeUnit.SECONDS)).isEqualTo("220 awake");
    }

    /** Opens the service listener on a free loopback port. */
    private void open() throws IOException {
        listen = freePort();
        assertThat(listeners.sync(List.of(desired()), Set.of(), "no overlay")).isEmpty();
    }

    private DesiredListener desired() {
        return new DesiredListener(KEY, "mail", "outbound", "submission", "private",
                Optional.of(InetAddress.getLoopbackAddress()), listen, false, KEY, Optional.of(REFUSAL), false, 0);
    }

    private static void until(java.util.function.BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited %d ms", millis).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** A server at {@code host} that writes {@code line} to each connection and closes it. */
    private InetSocketAddress greeter(String host, String line) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName(host));
        servers.add(server);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private String connectAndRead() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listen), 2000);
            s.setSoTimeout(15_000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
