package org.hearth.mail.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A plain LMTP client over a socket (RFC 2033): one reply per recipient after the final dot. */
final class LmtpTestClient {

    private LmtpTestClient() {
    }

    /** Sends {@code message} to the recipients; returns one reply line per accepted recipient. */
    static List<String> send(InetSocketAddress server, byte[] message, String... recipients) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(server, 5_000);
            s.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            expect(in, "220");
            command(out, "LHLO test.example");
            expect(in, "250");
            command(out, "MAIL FROM:<sender@elsewhere.example>");
            expect(in, "250");
            for (String r : recipients) {
                command(out, "RCPT TO:<" + r + ">");
                expect(in, "250");
            }
            command(out, "DATA");
            expect(in, "354");
            out.write(dotStuffed(message));
            out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < recipients.length; i++) {
                replies.add(reply(in));
            }
            command(out, "QUIT");
            return replies;
        }
    }

    /** Sends up to and including the final dot and returns without waiting for any reply. */
    static Socket sendWithoutWaiting(InetSocketAddress server, byte[] message, String recipient) throws IOException {
        Socket s = new Socket();
        s.connect(server, 5_000);
        s.setSoTimeout(60_000);
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        OutputStream out = s.getOutputStream();
        expect(in, "220");
        command(out, "LHLO test.example");
        expect(in, "250");
        command(out, "MAIL FROM:<sender@elsewhere.example>");
        expect(in, "250");
        command(out, "RCPT TO:<" + recipient + ">");
        expect(in, "250");
        command(out, "DATA");
        expect(in, "354");
        out.write(dotStuffed(message));
        out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    private static void command(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void expect(BufferedReader in, String code) throws IOException {
        String r = reply(in);
        if (!r.startsWith(code)) {
            throw new IOException("expected " + code + " but got: " + r);
        }
    }

    /** The last line of a (possibly multi-line) reply. */
    private static String reply(BufferedReader in) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed");
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        return line;
    }

    private static byte[] dotStuffed(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1).replace("\r\n", "\n").replace("\n", "\r\n");
        if (!text.endsWith("\r\n")) {
            text += "\r\n";
        }
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\r\n", -1)) {
            out.append(line.startsWith(".") ? "." : "").append(line).append("\r\n");
        }
        out.setLength(out.length() - 2);
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
