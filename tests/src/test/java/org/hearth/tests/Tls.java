package org.hearth.tests;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A mail client's TLS as a careful one does it: the server's chain must lead to {@code root} and
 * name {@code host} (RFC 6125, as HTTPS checks it), or the handshake fails. Each call answers the
 * certificate the server offered, to compare with the one the box holds.
 */
final class Tls {

    private static final String OVERLAY = "127.0.0.2";
    private static final String PUBLIC = "127.0.0.1";
    private final TrustManagerFactory trust;
    private final String host;

    Tls(X509Certificate root, String host) throws Exception {
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        roots.setCertificateEntry("root", root);
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(roots);
        this.host = host;
    }

    /** IMAP with TLS from the first byte, on the overlay's loopback stand-in. */
    X509Certificate imaps(int port) throws IOException {
        try (Session s = imapsSession(port)) {
            return s.offered();
        }
    }

    /** A logged-in IMAPS session, kept open by the caller. */
    Session imapsLogin(int port, String user, String password) throws IOException {
        Session s = imapsSession(port);
        String reply = s.command("LOGIN \"" + user + "\" \"" + password + "\"");
        if (!reply.startsWith("OK")) {
            s.close();
            throw new IOException("LOGIN answered " + reply);
        }
        return s;
    }

    private Session imapsSession(int port) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(OVERLAY, port), 5000);
        Session s = new Session(secure(plain, port));
        s.line();
        return s;
    }

    /** HTTPS on the overlay's loopback stand-in (the box's owner app): the certificate offered, checked. */
    X509Certificate https(int port) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(OVERLAY, port), 5000);
            return (X509Certificate) secure(plain, port).getSession().getPeerCertificates()[0];
        }
    }

    /** One HTTP/1.1 request (with {@code Connection: close}) over checked TLS on the overlay: the whole answer as text. */
    String https(int port, String request) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(OVERLAY, port), 5000);
            SSLSocket tls = secure(plain, port);
            tls.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return new String(tls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** SMTP on the public side, upgraded with STARTTLS as a sending MTA would. */
    X509Certificate smtpStartTls(int port) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(PUBLIC, port), 5000);
            plain.setSoTimeout(15_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = plain.getOutputStream();
            smtpReply(in);
            out.write("EHLO sender.test\r\n".getBytes(StandardCharsets.US_ASCII));
            smtpReply(in);
            out.write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            String ready = smtpReply(in);
            if (!ready.startsWith("220")) {
                throw new IOException("STARTTLS answered " + ready);
            }
            SSLSocket tls = secure(plain, port);
            tls.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            return (X509Certificate) tls.getSession().getPeerCertificates()[0];
        }
    }

    private SSLSocket secure(Socket plain, int port) throws IOException {
        // A context per connection: a resumed session would show the certificate of the first one.
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
        SSLParameters params = tls.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setServerNames(List.of(new SNIHostName(host)));
        tls.setSSLParameters(params);
        tls.setSoTimeout(15_000);
        tls.startHandshake();
        return tls;
    }

    private static String smtpReply(BufferedReader in) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("the SMTP server closed the connection");
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        return line;
    }

    /** An IMAP session over TLS: one tagged command at a time. */
    static final class Session implements AutoCloseable {
        private final SSLSocket socket;
        private final BufferedReader in;
        private int tag;

        Session(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        X509Certificate offered() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        String line() throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("the IMAP server closed the connection");
            }
            return line;
        }

        /** The tagged reply's status and text ("OK ..."), untagged lines skipped. */
        String command(String command) throws IOException {
            String t = "t" + (++tag);
            socket.getOutputStream().write((t + " " + command + "\r\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            String line;
            while (!(line = line()).startsWith(t + " ")) {
                // untagged data
            }
            return line.substring(t.length() + 1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
