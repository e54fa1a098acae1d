package org.hearth.mail.webmail;

import java.time.Instant;
import java.util.Set;

/**
 * One logged-in browser: who, the password its IMAP and submission connections need, the
 * addresses the owner may send as, the token every form of this session must carry (CSRF), and
 * the session's own IMAP connection, opened on first use.
 */
final class OwnerSession {

    private final String id;
    private final String user;
    private final String password;
    private final Set<String> addresses;
    private final String formToken;
    private final Instant created;
    private volatile Instant lastUsed;
    private ImapMailbox mailbox;
    private boolean ended;

    OwnerSession(String id, String user, String password, Set<String> addresses, String formToken, Instant created) {
        this.id = id;
        this.user = user;
        this.password = password;
        this.addresses = addresses;
        this.formToken = formToken;
        this.created = created;
        this.lastUsed = created;
    }

    String id() {
        return id;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    Set<String> addresses() {
        return addresses;
    }

    String formToken() {
        return formToken;
    }

    Instant created() {
        return created;
    }

    Instant lastUsed() {
        return lastUsed;
    }

    void touch(Instant now) {
        lastUsed = now;
    }

    /** This session's mailbox connection, (re)opened when needed. One request at a time uses it. */
    synchronized ImapMailbox mailbox(MailServers servers) {
        if (mailbox == null) {
            mailbox = new ImapMailbox(servers, user, password);
            if (ended) {
                // Ended while a request was under way: a mailbox that refuses to connect.
                mailbox.close();
            }
        }
        return mailbox;
    }

    /** Ends this session's mailbox connection for good: a request still under way gets no new one. */
    synchronized void close() {
        ended = true;
        if (mailbox != null) {
            mailbox.close();
        }
    }
}
