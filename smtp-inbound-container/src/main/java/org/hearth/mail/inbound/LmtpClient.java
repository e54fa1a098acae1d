package org.hearth.mail.inbound;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal LMTP client (RFC 2033) for handing a message to the mail store: LHLO, MAIL, RCPT,
 * DATA with one reply per accepted recipient, RSET, QUIT.
 */
final class LmtpClient implements Closeable {

    /** One server reply; multi-line replies are joined. */
    record Reply(int code, String text) {
        boolean positive() {
            return code >= 200 && code < 400;
        }

        boolean permanent() {
            return code >= 500;
        }
    }

    private static final int CONNECT_TIMEOUT_MILLIS = 5000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    LmtpClient(InetSocketAddress store, String lhloName, int timeoutMillis) throws IOException {
        socket = new Socket();
        try {
            // Resolved per connection: the store's address changes whenever its container is replaced.
            // A store that is up answers a connect on its internal network at once; one that is not
            // (stopped while storage is locked, or restarting) must turn into a 451 quickly.
            socket.connect(new InetSocketAddress(store.getHostString(), store.getPort()),
                    Math.min(timeoutMillis, CONNECT_TIMEOUT_MILLIS));
            socket.setSoTimeout(timeoutMillis);
            in = socket.getInputStream();
            out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            expect(read(), "greeting");
            expect(command("LHLO " + lhloName), "LHLO");
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    Reply mailFrom(String sender) throws IOException {
        return command("MAIL FROM:<" + sender + ">");
    }

    Reply rcptTo(String recipient) throws IOException {
        return command("RCPT TO:<" + recipient + ">");
    }

    Reply reset() throws IOException {
        return command("RSET");
    }

    /** Sends the message and returns one reply per recipient the server accepted, in RCPT order. */
    List<Reply> data(InputStream message, int recipients) throws IOException {
        Reply go = command("DATA");
        if (go.code() != 354) {
            return List.of(go);
        }
        writeDotStuffed(new BufferedInputStream(message, 64 * 1024));
        out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        List<Reply> replies = new ArrayList<>();
        for (int i = 0; i < recipients; i++) {
            replies.add(read());
        }
        return replies;
    }

    /**
     * Every line ends in CRLF (a bare CR or LF becomes one) and every line starting with '.' gets
     * another, so whatever the message holds, the store (whose James decoder ends a line at any LF)
     * reads one message and no command; a final line break is added if missing.
     */
    private void writeDotStuffed(InputStream m) throws IOException {
        boolean lineStart = true;
        boolean afterCr = false;
        for (int b; (b = m.read()) >= 0; ) {
            if (afterCr) {
                afterCr = false;
                newLine();
                lineStart = true;
                if (b == '\n') {
                    continue;
                }
            }
            if (b == '\r') {
                afterCr = true;
            } else if (b == '\n') {
                newLine();
                lineStart = true;
            } else {
                if (lineStart && b == '.') {
                    out.write('.');
                }
                out.write(b);
                lineStart = false;
            }
        }
        if (afterCr || !lineStart) {
            newLine();
        }
    }

    private void newLine() throws IOException {
        out.write('\r');
        out.write('\n');
    }

    private Reply command(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read();
    }

    private Reply read() throws IOException {
        StringBuilder text = new StringBuilder();
        while (true) {
            String line = readLine();
            if (line.length() < 3) {
                throw new IOException("malformed LMTP reply: " + line);
            }
            text.append(text.length() == 0 ? "" : " ").append(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) != '-') {
                return new Reply(Integer.parseInt(line.substring(0, 3)), text.toString());
            }
        }
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                int len = line.length();
                return len > 0 && line.charAt(len - 1) == '\r' ? line.substring(0, len - 1) : line.toString();
            }
            line.append((char) b);
        }
        throw new IOException("the mail store closed the connection");
    }

    private static void expect(Reply reply, String step) throws IOException {
        if (!reply.positive()) {
            throw new IOException("the mail store refused " + step + ": " + reply.code() + " " + reply.text());
        }
    }

    @Override
    public void close() {
        try {
            if (!socket.isClosed()) {
                out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            // Closing anyway.
        } finally {
            try {
                socket.close();
            } catch (IOException e) {
                // Nothing left to release.
            }
        }
    }
}
