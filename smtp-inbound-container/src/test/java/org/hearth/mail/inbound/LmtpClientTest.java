package org.hearth.mail.inbound;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's framing against a scripted LMTP peer on loopback (the real store is exercised
 * end to end in the tests module; this pins the byte-level rules: CRLF, dot-stuffing, one reply
 * per recipient).
 */
class LmtpClientTest {

    @Test
    void stuffsLeadingDotsNormalisesLineEndsAndReadsOneReplyPerRecipient() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> serve(server));
            InetSocketAddress address = InetSocketAddress.createUnresolved("127.0.0.1", server.getLocalPort());

            try (LmtpClient client = new LmtpClient(address, "mx.test", 5000)) {
                assertThat(client.mailFrom("").positive()).isTrue();
                assertThat(client.rcptTo("a@test").positive()).isTrue();
                assertThat(client.rcptTo("b@test").positive()).isTrue();
                List<LmtpClient.Reply> replies = client.data(".leading dot\nbare LF\r\n..two dots\r\nno final newline"
                        .getBytes(StandardCharsets.US_ASCII), 2);
                assertThat(replies).containsExactly(new LmtpClient.Reply(250, "2.0.0 ok a"),
                        new LmtpClient.Reply(452, "4.2.2 full b"));
            }
            assertThat(received.get()).isEqualTo("..leading dot\r\nbare LF\r\n...two dots\r\nno final newline\r\n.\r\n");
        }
    }

    private static String serve(ServerSocket server) {
        try (Socket s = server.accept()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            out.write("220 lmtp ready\r\n".getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("LHLO")) {
                    out.write("250-lmtp\r\n250 PIPELINING\r\n".getBytes(StandardCharsets.US_ASCII));
                } else if (line.startsWith("DATA")) {
                    out.write("354 go\r\n".getBytes(StandardCharsets.US_ASCII));
                    for (String d; !(d = in.readLine()).equals("."); ) {
                        data.write((d + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    data.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.write("250 2.0.0 ok a\r\n452 4.2.2 full b\r\n".getBytes(StandardCharsets.US_ASCII));
                } else if (line.startsWith("QUIT")) {
                    out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
                    break;
                } else {
                    out.write("250 ok\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            }
            return data.toString(StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
