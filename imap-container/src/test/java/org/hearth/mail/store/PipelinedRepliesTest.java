package org.hearth.mail.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #21's "FETCH out of order": James 3.8.1 let a command that arrived just as the previous one
 * finished write its reply from the network thread at once, ahead of the previous command's last
 * writes still queued by a mailbox thread; a NOOP's "OK" then landed inside a FETCH's literal. A
 * client here pipelines NOOPs behind FETCHes of a large message, so that some NOOP arrives in that
 * window, and checks every body and every tagged reply byte for byte.
 */
class PipelinedRepliesTest {

    private static final int ROUNDS = 150;
    private static final int MESSAGES = 3;

    @TempDir
    Path data;

    @Test
    void repliesToPipelinedCommandsNeverLandInsideAFetchedBody() throws Exception {
        try (InProcessImap imap = new InProcessImap(data)) {
            byte[] message = message(60_000);
            for (int i = 0; i < MESSAGES; i++) {
                imap.mailboxes.deliver(InProcessImap.USER, Mailboxes.INBOX, message);
            }
            try (SSLSocket socket = (SSLSocket) RawImapClient.trustAll().getSocketFactory().createSocket("127.0.0.1", imap.implicitTlsPort)) {
                socket.setSoTimeout(10_000);
                InputStream in = new BufferedInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                Replies replies = new Replies(in);
                replies.next();
                send(out, "a LOGIN " + InProcessImap.USER + " " + InProcessImap.PASSWORD);
                replies.untilTagged("a");
                send(out, "b SELECT INBOX");
                replies.untilTagged("b");

                // As each FETCH's literal is announced the client sends a NOOP: it reaches the server
                // about when the FETCH finishes, while the literal may still wait to be written.
                java.util.ArrayDeque<String> expected = new java.util.ArrayDeque<>();
                int[] noops = {0};
                replies.onLiteral = () -> {
                    String tag = "n" + noops[0]++;
                    expected.add(tag);
                    send(out, tag + " NOOP");
                };
                List<String> wrong = new ArrayList<>();
                int[] bodiesSeen = {0};
                try {
                    rounds(replies, out, expected, wrong, bodiesSeen, message);
                } catch (java.net.SocketTimeoutException e) {
                    wrong.add("no reply to " + expected + " within 10 s");
                }
                int bodies = bodiesSeen[0];
                System.out.println("pipelined-replies: rounds=" + ROUNDS + " bodies=" + bodies + " noops=" + noops[0] + " wrong=" + wrong.size());
                assertThat(wrong).as("replies cut into by another reply").isEmpty();
                assertThat(bodies).isEqualTo(ROUNDS * MESSAGES);
            }
        }
    }

    private static void rounds(Replies replies, OutputStream out, java.util.ArrayDeque<String> expected, List<String> wrong,
                               int[] bodies, byte[] message) throws IOException {
        for (int round = 0; round < ROUNDS; round++) {
            expected.add("f" + round);
            send(out, "f" + round + " UID FETCH 1:* (BODY.PEEK[])");
            while (!expected.isEmpty()) {
                byte[] reply = replies.next();
                String head = new String(reply, 0, Math.min(reply.length, 120), StandardCharsets.ISO_8859_1);
                Matcher fetch = Pattern.compile("^\\* \\d+ FETCH \\(UID \\d+ BODY\\[\\] \\{(\\d+)\\}\r\n").matcher(head);
                if (fetch.find()) {
                    bodies[0]++;
                    int start = fetch.end();
                    byte[] body = Arrays.copyOfRange(reply, start, start + Integer.parseInt(fetch.group(1)));
                    String tail = new String(reply, start + body.length, reply.length - start - body.length, StandardCharsets.ISO_8859_1);
                    if (!Arrays.equals(body, message) || !tail.equals(")\r\n")) {
                        wrong.add("body cut: " + head.replace("\r\n", "\\r\\n"));
                    }
                } else if (!head.startsWith("* ")) {
                    String tag = head.split(" ", 2)[0];
                    if (!head.matches("[a-z0-9]+ OK [^\r\n]*\r\n") || !expected.remove(tag)) {
                        wrong.add("unexpected: " + head.replace("\r\n", "\\r\\n"));
                    }
                }
            }
        }
    }

    private static void send(OutputStream out, String line) throws IOException {
        synchronized (out) {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }

    private static byte[] message(int size) {
        StringBuilder b = new StringBuilder("From: p@d.example\r\nTo: a@d.example\r\nSubject: pipelined\r\n\r\n");
        for (int i = 0; b.length() < size; i++) {
            b.append("line ").append(i).append(" of a large message, so that its literal is written apart\r\n");
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Whole responses as sent: a line, and for each literal it announces, the literal and the rest. */
    static final class Replies {
        interface Hook {
            void run() throws IOException;
        }

        private final InputStream in;
        Hook onLiteral = () -> { };

        Replies(InputStream in) {
            this.in = in;
        }

        byte[] next() throws IOException {
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            while (true) {
                String line = line(reply);
                Matcher literal = Pattern.compile("\\{(\\d+)\\}\r\n$").matcher(line);
                if (!literal.find()) {
                    return reply.toByteArray();
                }
                onLiteral.run();
                reply.write(in.readNBytes(Integer.parseInt(literal.group(1))));
            }
        }

        void untilTagged(String tag) throws IOException {
            while (!new String(next(), StandardCharsets.ISO_8859_1).startsWith(tag + " ")) {
                // untagged data before the completion
            }
        }

        private String line(ByteArrayOutputStream reply) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int previous = -1;
            while (true) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("closed");
                }
                line.write(c);
                if (previous == '\r' && c == '\n') {
                    byte[] bytes = line.toByteArray();
                    reply.write(bytes);
                    return new String(bytes, StandardCharsets.ISO_8859_1);
                }
                previous = c;
            }
        }
    }
}
