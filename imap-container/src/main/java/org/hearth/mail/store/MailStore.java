package org.hearth.mail.store;

import org.apache.james.mailbox.Authenticator;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.hearth.mail.common.AuthThrottle;
import org.hearth.tls.ServerKeys;
import org.hearth.tls.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The mail app's store container: LMTP delivery in (from inbound SMTP), IMAP out (to the owner),
 * and the mailboxes on the app's volume. Settings come from the manifest's environment:
 * <ul>
 *   <li>{@code MAIL_DATA} (default /data): the volume; holds the Derby database (mailboxes, delivery ledger,
 *       failure counts), accounts, TLS identity and {@code quarantine/}</li>
 *   <li>{@code MAIL_HOSTNAME}: the name in greetings, the self-signed certificate and Authentication-Results (its authserv-id)</li>
 *   <li>{@code HEARTH_SECRETS} (/run/secrets): the box's certificate for that name, once the supervisor has one
 *       (the manifest's {@code certificate:}; {@link ServerKeys})</li>
 *   <li>{@code OUTBOUND_LMTP_PORT} (2425): LMTP for the appliance's own outbound, whose mail's sender is not checked</li>
 *   <li>{@code LMTP_PORT} (2424), {@code IMAP_PORT} (1143, STARTTLS), {@code IMAPS_PORT} (1993, implicit TLS)</li>
 *   <li>{@code SPAM_SCANNER} (spam:7830): spamd's address; {@code SPAM_TIMEOUT_MS} (30000)</li>
 *   <li>{@code SPAM_UNAVAILABLE}: {@code tempfail} (default: answer 451 so the sender retries) or
 *       {@code deliver-unscanned}</li>
 *   <li>{@code SPAM_MAX_SCAN_BYTES} (512000): larger messages are delivered to INBOX unscanned for spam, marked
 *       so; their sender is checked all the same</li>
 *   <li>{@code MAX_MESSAGE_BYTES} (26214400)</li>
 * </ul>
 */
public final class MailStore {

    private static final Logger LOG = LoggerFactory.getLogger(MailStore.class);

    private MailStore() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        Path data = Path.of(env("MAIL_DATA", "/data"));
        String hostname = env("MAIL_HOSTNAME", "mail.hearth.invalid");
        // Derby writes its log beside the database, never to the read-only working folder.
        System.setProperty("derby.stream.error.file", data.resolve("derby.log").toString());
        Accounts accounts = new Accounts(data.resolve("accounts.json"));
        MetricFactory metrics = new DefaultMetricFactory();
        Authenticator authenticator = (user, password) -> accounts.authenticate(user.asString(), password.toString().toCharArray());
        Mailboxes mailboxes = new Mailboxes(data.resolve("mailboxes"), authenticator, metrics);
        for (String user : accounts.users()) {
            mailboxes.provision(user);
        }
        SSLContext tls = ServerKeys.context(Path.of(env("HEARTH_SECRETS", "/run/secrets")),
                TlsIdentity.stored(data.resolve("tls/server.p12"), hostname));
        SpamScanner scanner = new SpamScanner(hostPort(env("SPAM_SCANNER", "spam:7830")),
                Integer.parseInt(env("SPAM_TIMEOUT_MS", "30000")));
        LmtpDelivery.WhenScannerDown whenDown = switch (env("SPAM_UNAVAILABLE", "tempfail")) {
            case "tempfail" -> LmtpDelivery.WhenScannerDown.TEMPFAIL;
            case "deliver-unscanned" -> LmtpDelivery.WhenScannerDown.DELIVER_UNSCANNED;
            default -> throw new IllegalArgumentException("SPAM_UNAVAILABLE must be tempfail or deliver-unscanned");
        };
        long maxSize = Long.parseLong(env("MAX_MESSAGE_BYTES", "26214400"));
        // Submission's login check, where the manifest gives the store a port for it (LoginService).
        String loginPort = env("STORE_LOGIN_PORT", "");
        if (!loginPort.isEmpty()) {
            new LoginService(accounts, AuthThrottle.standard(), new InetSocketAddress(Integer.parseInt(loginPort)));
        }
        int maxScanBytes = Integer.parseInt(env("SPAM_MAX_SCAN_BYTES", "512000"));
        SpamLearner learner = new SpamLearner(mailboxes, scanner, maxScanBytes);
        ImapService.start("imap", new InetSocketAddress(Integer.parseInt(env("IMAP_PORT", "1143"))), false, tls,
                mailboxes, learner, metrics, hostname, maxSize);
        ImapService.start("imaps", new InetSocketAddress(Integer.parseInt(env("IMAPS_PORT", "1993"))), true, tls,
                mailboxes, learner, metrics, hostname, maxSize);
        // LMTP last: its port answering (the health check) means the whole store is up.
        DeliveryLedger ledger = new DeliveryLedger(Mailboxes.jdbcUrl(data.resolve("mailboxes")), Clock.systemUTC());
        Quarantine quarantine = new Quarantine(Mailboxes.jdbcUrl(data.resolve("mailboxes")), data.resolve("quarantine"),
                Clock.systemUTC(), Quarantine.THRESHOLD);
        // Outbound's own port (the appliance's own mail and notices; only outbound's edge reaches it), then the world's.
        LmtpDelivery.Factory lmtp = origin -> new LmtpDelivery(accounts, mailboxes, ledger, quarantine, scanner, learner,
                whenDown, maxScanBytes, hostname, origin);
        lmtp.of(LmtpDelivery.Origin.OWN_OUTBOUND)
                .server(new InetSocketAddress(Integer.parseInt(env("OUTBOUND_LMTP_PORT", "2425"))), maxSize, metrics);
        lmtp.of(LmtpDelivery.Origin.INTERNET)
                .server(new InetSocketAddress(Integer.parseInt(env("LMTP_PORT", "2424"))), maxSize, metrics);
        Files.createDirectories(data);
        LOG.info("event=ready service=mail-store ms={}", (System.nanoTime() - start) / 1_000_000);
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        return InetSocketAddress.createUnresolved(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }
}
