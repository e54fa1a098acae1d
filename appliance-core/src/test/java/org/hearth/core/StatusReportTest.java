package org.hearth.core;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatusReportTest {

    @Test
    void factsAreKeyValuePairsWithPercentEncodedValues() {
        assertThat(StatusReport.parse("queued=3 oldest=2m last-error.example.org=451%204.3.0%20try%20later\n"))
                .containsExactly(Map.entry("queued", "3"), Map.entry("oldest", "2m"),
                        Map.entry("last-error.example.org", "451 4.3.0 try later"));
    }

    /** It comes from inside an app: odd keys, bad encodings and control characters never reach the owner's terminal. */
    @Test
    void anythingMalformedIsDropped() {
        assertThat(StatusReport.parse("Bad=1 =2 noequals ok=%zz fine=a%1b%5b2J x=y")).containsExactly(
                Map.entry("fine", "a?[2J"), Map.entry("x", "y"));
        assertThat(StatusReport.parse("k=" + "v".repeat(10_000))).hasSize(1);
    }

    @Test
    void readsOneLineFromThePortAndNothingWhenNoOneAnswers() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write("queued=1\n".getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                    // the test reads what arrived
                }
            });
            t.start();
            assertThat(StatusReport.read(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()),
                    Duration.ofSeconds(2))).contains(Map.of("queued", "1"));
            t.join();
        }
        assertThat(StatusReport.read(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), Duration.ofSeconds(1))).isEmpty();
    }
}
