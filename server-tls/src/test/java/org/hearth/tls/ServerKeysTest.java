package org.hearth.tls;

import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** Real TLS handshakes on loopback while the certificate files are replaced under a running server. */
class ServerKeysTest {

    @TempDir
    Path secrets;
    private SSLServerSocket server;
    private Thread echo;

    @BeforeEach
    void start() throws IOException {
        SSLContext context = ServerKeys.context(secrets, TlsIdentity.ephemeral("self-signed.test"));
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        echo = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    new Thread(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    }).start();
                } catch (IOException closed) {
                    return;
                }
            }
        });
        echo.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        echo.join();
    }

    @Test
    void offersTheSelfSignedIdentityUntilTheSupervisorHandsOverACertificateThenEachRenewalWithoutARestart() throws Exception {
        assertThat(name(connect().offered)).isEqualTo("CN=self-signed.test");

        install(TlsIdentity.ephemeral("mail.alice.test"));
        Thread.sleep(2_100);
        Session first = connect();
        assertThat(name(first.offered)).isEqualTo("CN=mail.alice.test");

        TlsIdentity renewed = TlsIdentity.ephemeral("mail.alice.test");
        install(renewed);
        Thread.sleep(2_100);
        Session second = connect();
        assertThat(second.offered).isEqualTo(renewed.certificate());
        // The session begun before the renewal goes on as it was.
        assertThat(first.echo("still here")).isEqualTo("still here");
        first.socket.close();
        second.socket.close();
    }

    @Test
    void aChainWhoseKeyDoesNotMatchOrThatIsNotPemKeepsWhatWasOffered() throws Exception {
        TlsIdentity good = TlsIdentity.ephemeral("mail.alice.test");
        install(good);
        Thread.sleep(2_100);
        assertThat(connect().offered).isEqualTo(good.certificate());

        // A chain replaced first and its key not yet: the old pair goes on.
        TlsIdentity next = TlsIdentity.ephemeral("mail.alice.test");
        Files.writeString(secrets.resolve(ServerKeys.CHAIN), pem(next.certificate()));
        Thread.sleep(2_100);
        assertThat(connect().offered).isEqualTo(good.certificate());

        Files.writeString(secrets.resolve(ServerKeys.CHAIN), "not a certificate");
        Thread.sleep(2_100);
        assertThat(connect().offered).isEqualTo(good.certificate());

        // The key arrives: the next look takes the pair.
        install(next);
        Thread.sleep(2_100);
        assertThat(connect().offered).isEqualTo(next.certificate());
    }

    /** The supervisor registers Bouncy Castle's provider (for acme4j); its EC keys must still be offered. */
    @Test
    void anEcKeyIsOfferedWithBouncyCastleRegisteredToo() throws Exception {
        java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        try {
            TlsIdentity box = TlsIdentity.ephemeral("box.alice.test");
            install(box);
            Thread.sleep(2_100);
            assertThat(connect().offered).isEqualTo(box.certificate());
        } finally {
            java.security.Security.removeProvider("BC");
        }
    }

    /** Key first, then the chain, each replaced whole: as the supervisor writes them. */
    private void install(TlsIdentity identity) throws IOException {
        replace(secrets.resolve(ServerKeys.KEY), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(identity.privateKey().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        replace(secrets.resolve(ServerKeys.CHAIN), pem(identity.certificate()));
    }

    private static void replace(Path file, String text) throws IOException {
        Path next = file.resolveSibling("." + file.getFileName() + ".new");
        Files.writeString(next, text);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static String name(X509Certificate c) {
        return c.getSubjectX500Principal().getName();
    }

    private record Session(SSLSocket socket, X509Certificate offered) {
        String echo(String text) throws IOException {
            socket.getOutputStream().write((text + "\n").getBytes());
            socket.getOutputStream().flush();
            StringBuilder back = new StringBuilder();
            int c;
            while ((c = socket.getInputStream().read()) != '\n' && c != -1) {
                back.append((char) c);
            }
            return back.toString();
        }
    }

    private Session connect() throws Exception {
        SSLContext client = SSLContext.getInstance("TLS");
        // The test looks at what the server offers; whether a client would trust it is not the question here.
        client.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, new SecureRandom());
        SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 5000);
        socket.setSoTimeout(5000);
        socket.startHandshake();
        return new Session(socket, (X509Certificate) socket.getSession().getPeerCertificates()[0]);
    }
}
