package org.hearth.mail.inbound;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw SMTP client for tests: writes exactly the bytes it is given and reads whole replies. */
final class SmtpWire implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    SmtpWire(int port) throws IOException {
        this(port, 10_000);
    }

    /** With a longer wait for each reply, for messages the server takes long to pass on. */
    SmtpWire(int port, int replyTimeoutMillis) throws IOException {
        this(port, replyTimeoutMillis, InetAddress.getLoopbackAddress());
    }

    /** From a loopback address of its own (127.0.0.2, ...): another client, as the server sees it. */
    SmtpWire(int port, InetAddress from) throws IOException {
        this(port, 10_000, from);
    }

    private SmtpWire(int port, int replyTimeoutMillis, InetAddress from) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port, from, 0);
        socket.setSoTimeout(replyTimeoutMillis);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Writes the text as ISO-8859-1 bytes, unchanged (no line ends added). */
    SmtpWire write(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /** Copies the stream to the server as is (for bodies too big to hold as a string), in 64 KiB writes as a real MTA would. */
    SmtpWire write(InputStream bytes) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = bytes.readNBytes(buffer, 0, buffer.length)) > 0; ) {
            out.write(buffer, 0, n);
        }
        out.flush();
        return this;
    }

    /** Writes one command line with CRLF and returns its reply. */
    String command(String line) throws IOException {
        write(line + "\r\n");
        return reply();
    }

    /** The next whole reply (continuation lines joined with LF), or "EOF" if the server closed. */
    String reply() throws IOException {
        StringBuilder reply = new StringBuilder();
        while (true) {
            String line = line();
            if (line == null) {
                return reply.length() == 0 ? "EOF" : reply + "\nEOF";
            }
            reply.append(reply.length() == 0 ? "" : "\n").append(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return reply.toString();
            }
        }
    }

    /** Everything the server still sends until it closes, or that plus "<still open>" after the timeout. */
    String rest() throws IOException {
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        try {
            for (int b; (b = in.read()) >= 0; ) {
                rest.write(b);
            }
        } catch (SocketTimeoutException e) {
            rest.writeBytes("<still open>".getBytes(StandardCharsets.US_ASCII));
        }
        return rest.toString(StandardCharsets.ISO_8859_1);
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
