package org.hearth.mail.webmail;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Properties;

/**
 * Where the webmail finds the rest of the mail app, over the edges its manifest declares.
 *
 * @param imap       the store's IMAP (STARTTLS)
 * @param login      the store's login check, which also names a user's addresses
 * @param submission outbound's submission (STARTTLS, then AUTH)
 * @param timeout    connect and read timeout for each of them
 */
record MailServers(InetSocketAddress imap, InetSocketAddress login, InetSocketAddress submission, Duration timeout) {

    /**
     * Angus Mail's settings for {@code protocol} ("imap" or "smtp") to these servers: timeouts, and
     * STARTTLS required. Their certificates are the store's and outbound's own self-signed ones, on
     * the app's internal network, which only the containers the manifest joins can reach: TLS there
     * keeps the owner's password off that network; the certificate is not checked.
     */
    Properties clientProperties(String protocol, Duration readTimeout) {
        Properties p = new Properties();
        String prefix = "mail." + protocol + ".";
        p.setProperty(prefix + "connectiontimeout", String.valueOf(timeout.toMillis()));
        p.setProperty(prefix + "timeout", String.valueOf(readTimeout.toMillis()));
        p.setProperty(prefix + "writetimeout", String.valueOf(readTimeout.toMillis()));
        p.setProperty(prefix + "starttls.enable", "true");
        p.setProperty(prefix + "starttls.required", "true");
        p.setProperty(prefix + "ssl.trust", "*");
        p.setProperty(prefix + "ssl.checkserveridentity", "false");
        return p;
    }
}
