package org.hearth.mail.store;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * An IMAP client that writes exactly the bytes a test gives it, in the writes it chooses, and
 * reads responses line by line (a response line's literal is read as part of it).
 */
final class RawImapClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawImapClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    static RawImapClient tls(InetSocketAddress server) throws Exception {
        RawImapClient client = new RawImapClient(trustAll().getSocketFactory().createSocket(server.getHostString(), server.getPort()));
        client.expectLineStartingWith("* OK");
        return client;
    }

    /** TLS that takes any certificate: the in-process servers' are made up for the test. */
    static SSLContext trustAll() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    static RawImapClient plain(InetSocketAddress server) throws IOException {
        RawImapClient client = new RawImapClient(new Socket(server.getHostString(), server.getPort()));
        client.expectLineStartingWith("* OK");
        return client;
    }

    void login(String user, String password) throws IOException {
        write("l1 LOGIN \"" + user + "\" \"" + password + "\"\r\n");
        String done = readUntilTagged("l1").get(0);
        if (!done.startsWith("l1 OK")) {
            throw new IOException("login failed: " + done);
        }
    }

    void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** One write, flushed: over TLS one record, so the server reads it apart from the next. */
    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes {@code bytes} cut at {@code cuts}, pausing between the pieces so each arrives alone. */
    void writeSplit(byte[] bytes, int... cuts) throws IOException, InterruptedException {
        int from = 0;
        for (int cut : cuts) {
            write(java.util.Arrays.copyOfRange(bytes, from, cut));
            Thread.sleep(2);
            from = cut;
        }
        write(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
    }

    /** The next response line, without its CRLF; a literal it announces is appended to it. */
    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("connection closed; read so far: " + line.toString(StandardCharsets.ISO_8859_1));
            }
            line.write(b);
        }
        String text = line.toString(StandardCharsets.ISO_8859_1);
        text = text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
        if (text.endsWith("}") && text.lastIndexOf('{') >= 0) {
            int size = Integer.parseInt(text.substring(text.lastIndexOf('{') + 1, text.length() - 1));
            byte[] literal = in.readNBytes(size);
            return text + new String(literal, StandardCharsets.ISO_8859_1) + readLine();
        }
        return text;
    }

    String expectLineStartingWith(String prefix) throws IOException {
        String line = readLine();
        if (!line.startsWith(prefix)) {
            throw new IOException("expected a line starting with '" + prefix + "', got: " + line);
        }
        return line;
    }

    /** Lines up to and including the tagged response of {@code tag}; that one is returned first. */
    List<String> readUntilTagged(String tag) throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line.startsWith(tag + " ")) {
                lines.add(0, line);
                return lines;
            }
            lines.add(line);
        }
    }

    /** Everything the server sends until it closes the connection; fails if it does not within the timeout. */
    String readToClose() throws IOException {
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        int b;
        try {
            while ((b = in.read()) >= 0) {
                rest.write(b);
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new IOException("the server kept the connection open; it sent: " + rest.toString(StandardCharsets.ISO_8859_1));
        } catch (IOException reset) {
            // A reset is a close too.
        }
        return rest.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
