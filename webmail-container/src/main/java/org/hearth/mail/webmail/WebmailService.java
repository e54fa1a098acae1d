package org.hearth.mail.webmail;

import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.hearth.tls.ServerKeys;
import org.hearth.tls.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The mail app's webmail: HTTPS on the owner's overlay only (the manifest's private port), reading
 * the owner's mail from the store over IMAP and sending through submission, with the owner's own
 * password: it holds no account of its own and nothing of the owner's but what a session needs.
 *
 * <p>Settings (environment): {@code WEBMAIL_PORT} (8443), {@code STORE_IMAP} (imap:1143),
 * {@code STORE_LOGIN} (imap:2465), {@code SUBMISSION} (outbound:1587), {@code MAIL_HOSTNAME} (the
 * self-signed certificate's name; the box's own certificate, once there is one, in {@code HEARTH_SECRETS}),
 * {@code MAIL_DATA} (/data: its TLS key, uploads in flight and the senders
 * each owner allows remote images from, on its encrypted volume), {@code MAX_MESSAGE_BYTES} (a message sent, attachments included). When the
 * supervisor names the port in {@code HEARTH_PROXY_PROTOCOL_PORTS}, each connection starts with the
 * edge listener's PROXY header: the browser's own address, which login throttling needs.
 */
public final class WebmailService {

    private static final Logger LOG = LoggerFactory.getLogger(WebmailService.class);

    private WebmailService() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        Path data = Path.of(env.getOrDefault("MAIL_DATA", "/data"));
        Files.createDirectories(data.resolve("uploads"));
        String hostname = env.getOrDefault("MAIL_HOSTNAME", "mail.demo.hearth.test");
        MailServers servers = new MailServers(address(env, "STORE_IMAP", "imap:1143"), address(env, "STORE_LOGIN", "imap:2465"),
                address(env, "SUBMISSION", "outbound:1587"), Duration.ofSeconds(20));
        long maxMessage = Long.parseLong(env.getOrDefault("MAX_MESSAGE_BYTES", "26214400"));
        WebmailHandler handler = new WebmailHandler(servers, new OwnerSessions(OwnerSessions.Limits.standard()),
                new LoginGate(), new RemoteContentSenders(data.resolve("settings")), data.resolve("uploads"), maxMessage);

        // Few threads: a home has a handful of browsers (a page waits on IMAP, not on CPU).
        QueuedThreadPool threads = new QueuedThreadPool(24, 2, 60_000);
        threads.setName("web");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setHttpCompliance(HttpCompliance.RFC9110);
        http.addCustomizer(new SecureRequestCustomizer(false));
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setSslContext(ServerKeys.context(Path.of(env.getOrDefault("HEARTH_SECRETS", "/run/secrets")),
                TlsIdentity.stored(data.resolve("tls/webmail.p12"), hostname)));
        tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        SslConnectionFactory tlsFactory = new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString());
        int port = Integer.parseInt(env.getOrDefault("WEBMAIL_PORT", "8443"));
        boolean proxied = java.util.Arrays.asList(env.getOrDefault("HEARTH_PROXY_PROTOCOL_PORTS", "").split(","))
                .contains(String.valueOf(port));
        ServerConnector connector = proxied
                ? new ServerConnector(server, 1, 1, new ProxyConnectionFactory(tlsFactory.getProtocol()), tlsFactory,
                        new HttpConnectionFactory(http))
                : new ServerConnector(server, 1, 1, tlsFactory, new HttpConnectionFactory(http));
        connector.setPort(port);
        connector.setIdleTimeout(Duration.ofMinutes(5).toMillis());
        server.addConnector(connector);
        server.setHandler(handler);
        server.setStopAtShutdown(true);
        server.start();
        LOG.info("event=started port={} proxy_protocol={} store_imap={} submission={}", port, proxied, servers.imap(), servers.submission());
        server.join();
    }

    private static InetSocketAddress address(Map<String, String> env, String name, String fallback) {
        String value = env.getOrDefault(name, fallback);
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(name + "=" + value + ": expected host:port");
        }
        return InetSocketAddress.createUnresolved(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
    }
}
