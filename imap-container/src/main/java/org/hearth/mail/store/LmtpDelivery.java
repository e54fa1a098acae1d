package org.hearth.mail.store;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.OidcSASLConfiguration;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.lmtp.LMTPConfiguration;
import org.apache.james.protocols.lmtp.core.DataLineMessageHookHandler;
import org.apache.james.protocols.lmtp.core.LhloCmdHandler;
import org.apache.james.protocols.lmtp.core.ReceivedDataLineFilter;
import org.apache.james.protocols.lmtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.lmtp.hook.DeliverToRecipientHook;
import org.apache.james.protocols.netty.NettyServer;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.MailSizeEsmtpExtension;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.hearth.mail.common.Smtputf8;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The LMTP server the inbound SMTP container delivers through. It checks each recipient against
 * the accounts (unknown domain: 550 5.7.1, unknown user: 550 5.1.1), has every message scanned
 * once and its sender checked (SPF, DKIM, DMARC, by the scanner), adds the verdicts as X-Spam-*
 * and Authentication-Results fields and stores the message in INBOX or Junk before answering 250
 * for that recipient. Mail whose From domain's DMARC policy says reject is refused (550 5.7.1);
 * quarantine files it in Junk. When the scanner cannot answer, the message is tempfailed (451)
 * unless the app says to deliver unscanned.
 * <p>
 * A retried delivery (same recipient, Message-ID and body within 48 hours, see {@link DeliveryLedger})
 * gets 250 without a second copy. A failure is 451, until the same message has failed the same way
 * {@link Quarantine#THRESHOLD} times: then it is quarantined and answered 250.
 */
final class LmtpDelivery {

    private static final Logger LOG = LoggerFactory.getLogger(LmtpDelivery.class);

    /** What to do with a message the scanner could not check. */
    enum WhenScannerDown { TEMPFAIL, DELIVER_UNSCANNED }

    /**
     * Who hands mail to this LMTP server, as the port it listens on tells (the firewall lets only
     * the manifest's edges reach each port): smtp-in, with the world's mail, whose sender is checked
     * (SPF, DKIM, DMARC) and refused where its domain asks; or the appliance's own outbound, with
     * its users' authenticated mail and its delivery notices, which no sender check can judge (a
     * notice from MAILER-DAEMON is signed by no one and sent from no public address).
     */
    enum Origin { INTERNET, OWN_OUTBOUND }

    /** One store's LMTP servers differ only in whom they serve. */
    interface Factory {
        LmtpDelivery of(Origin origin);
    }

    private final Accounts accounts;
    private final Mailboxes mailboxes;
    private final DeliveryLedger ledger;
    private final Quarantine quarantine;
    private final SpamScanner scanner;
    private final SpamLearner learner;
    /** Larger messages are not scanned (spamc's rule too): spam is small, and a scan of megabytes outlasts any timeout. */
    private final int maxScanBytes;
    private final WhenScannerDown whenScannerDown;
    /** This server's name in the Authentication-Results fields it writes (RFC 8601 authserv-id). */
    private final String authservId;
    private final Origin origin;
    // One scan per message and user (each user's Bayes data judges it), shared by that user's
    // recipients (aliases); envelopes are compared by identity. The map's lock is held only to find or
    // claim the entry, never during a scan: deliveries of other messages scan at the same time.
    private final Map<MailEnvelope, Scans> replies = Collections.synchronizedMap(new WeakHashMap<>());

    /** A message's scans: one per user; the first also checks the sender, for all of them. */
    private static final class Scans {
        final Map<String, CompletableFuture<Optional<SpamScanner.Reply>>> byUser = new ConcurrentHashMap<>();
        CompletableFuture<Optional<SpamScanner.Reply>> senderChecked;
    }

    LmtpDelivery(Accounts accounts, Mailboxes mailboxes, DeliveryLedger ledger, Quarantine quarantine,
                 SpamScanner scanner, SpamLearner learner, WhenScannerDown whenScannerDown, int maxScanBytes, String authservId, Origin origin) {
        this.authservId = authservId;
        this.origin = origin;
        this.ledger = ledger;
        this.quarantine = quarantine;
        this.maxScanBytes = maxScanBytes;
        this.accounts = accounts;
        this.mailboxes = mailboxes;
        this.scanner = scanner;
        this.learner = learner;
        this.whenScannerDown = whenScannerDown;
    }

    NettyServer server(InetSocketAddress listen, long maxMessageSize, MetricFactory metrics) throws Exception {
        SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
        List<ProtocolHandler> handlers = new ArrayList<>(List.of(
                new CommandDispatcher<SMTPSession>(), new LhloCmdHandler(metrics), new Smtputf8.MailCmd(metrics),
                new NoopCmdHandler(), new QuitCmdHandler(metrics), new Smtputf8.RcptCmd(metrics), new RsetCmdHandler(),
                new DataCmdHandler(metrics), new MailSizeEsmtpExtension(), new Smtputf8.Extension(), new WelcomeMessageHandler(),
                new ReceivedDataLineFilter(), new DataLineMessageHookHandler(), new UnknownCmdHandler(metrics),
                new CommandHandlerResultLogger()));
        // Hooks last: the size check and the core handlers run first.
        handlers.add(recipientCheck());
        handlers.add(delivery());
        chain.addAll(handlers);
        chain.wireExtensibleHandlers();
        LMTPConfiguration config = new LMTPConfiguration("LMTP") {
            @Override
            public long getMaxMessageSize() {
                return maxMessageSize;
            }

            @Override
            public boolean isPlainAuthEnabled() {
                return false;
            }

            @Override
            public Optional<OidcSASLConfiguration> saslConfiguration() {
                return Optional.empty();
            }
        };
        NettyServer server = new NettyServer.Factory().protocol(Smtputf8.protocol(chain, config)).build();
        server.setListenAddresses(listen);
        server.bind();
        return server;
    }

    private RcptHook recipientCheck() {
        return new RcptHook() {
            @Override
            public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
                Accounts.Resolution r = accounts.resolve(rcpt.asString());
                if (r instanceof Accounts.Resolution.NotLocal) {
                    return reply(HookReturnCode.deny(), SMTPRetCode.MAILBOX_PERM_UNAVAILABLE,
                            DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.SECURITY_AUTH) + " Relaying denied: "
                                    + rcpt.getDomain().asString() + " is not a domain of this server");
                }
                if (r instanceof Accounts.Resolution.Unknown) {
                    return reply(HookReturnCode.deny(), SMTPRetCode.MAILBOX_PERM_UNAVAILABLE,
                            DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX) + " No such user here");
                }
                return HookResult.OK;
            }
        };
    }

    private DeliverToRecipientHook delivery() {
        return (session, rcpt, envelope) -> {
            if (!(accounts.resolve(rcpt.asString()) instanceof Accounts.Resolution.Mailbox mailbox)) {
                return reply(HookReturnCode.deny(), SMTPRetCode.MAILBOX_PERM_UNAVAILABLE,
                        DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX) + " No such user here");
            }
            byte[] original;
            try {
                original = read(envelope);
            } catch (IOException e) {
                LOG.warn("event=delivery-failed error={}", e.toString());
                return couldNotStore();
            }
            String recipient = Smtputf8.comparable(rcpt.asString());
            MessageIdentity identity = MessageIdentity.of(original);
            Optional<String> key = identity.deliveryKey(recipient);
            HookResult result;
            try {
                // A retry waits for an attempt of the same delivery still running, then sees its record.
                result = key.isPresent()
                        ? ledger.exclusively(key.get(), () -> deliverOnce(key.get(), mailbox.user(), identity, envelope, original))
                        : store(Optional.empty(), mailbox.user(), envelope, original);
            } catch (Exception | StackOverflowError e) {
                return failed(recipient, mailbox.user(), identity, original, e);
            }
            if (result.getResult() == HookReturnCode.ok()) {
                try {
                    quarantine.delivered(recipient, identity);
                } catch (SQLException e) {
                    // Stored all the same; a stale count only ages out.
                    LOG.warn("event=failure-count-not-cleared error={}", e.toString());
                }
            }
            return result;
        };
    }

    /** 250 without storing if the ledger shows this delivery already made, else stores it. */
    private HookResult deliverOnce(String key, String user, MessageIdentity identity, MailEnvelope envelope,
                                   byte[] original) throws Exception {
        Optional<DeliveryLedger.Entry> earlier = ledger.find(key);
        Optional<Long> storedAs = earlier.flatMap(DeliveryLedger.Entry::uid);
        String found = "record";
        if (earlier.isPresent() && storedAs.isEmpty()) {
            found = "search";
            // Intended but not marked done: the store died after the append, or before it. Look where it was going.
            DeliveryLedger.Entry e = earlier.get();
            storedAs = mailboxes.find(e.user(), e.folder(), e.nextUid(), identity);
            if (storedAs.isPresent()) {
                ledger.done(key, storedAs.get());
            }
        }
        if (storedAs.isPresent()) {
            LOG.info("event=duplicate-suppressed folder={} uid={} found={}", earlier.get().folder(), storedAs.get(), found);
            return reply(HookReturnCode.ok(), SMTPRetCode.MAIL_OK,
                    DSNStatus.getStatus(DSNStatus.SUCCESS, DSNStatus.CONTENT_OTHER) + " Already delivered");
        }
        return store(Optional.of(key), user, envelope, original);
    }

    /** Scans, files and appends the message; with a key, records the intent before and the UID after. */
    private HookResult store(Optional<String> key, String user, MailEnvelope envelope, byte[] original) throws Exception {
        boolean scanned = original.length <= maxScanBytes;
        // Too large to scan and no sender to check: nothing to ask the scanner.
        Optional<SpamScanner.Reply> reply = scanned || origin == Origin.INTERNET ? replyOf(user, envelope, original, scanned)
                : Optional.of(new SpamScanner.Reply(Optional.empty(), Optional.empty(), SpamScanner.Autolearn.NO));
        if (reply.isEmpty() && whenScannerDown == WhenScannerDown.TEMPFAIL) {
            return reply(HookReturnCode.denySoft(), SMTPRetCode.LOCAL_ERROR,
                    DSNStatus.getStatus(DSNStatus.TRANSIENT, DSNStatus.SYSTEM_OTHER)
                            + " Spam scanner unavailable, try again later");
        }
        Optional<SpamScanner.Verdict> verdict = reply.flatMap(SpamScanner.Reply::verdict);
        Optional<SpamScanner.SenderCheck> sender = origin == Origin.INTERNET ? reply.flatMap(SpamScanner.Reply::sender)
                : Optional.empty();
        SpamScanner.Disposition disposition = sender.map(SpamScanner.SenderCheck::disposition)
                .orElse(SpamScanner.Disposition.NONE);
        if (disposition == SpamScanner.Disposition.REJECT) {
            // The From domain asks receivers to refuse mail that fails its DMARC check (RFC 7489 §6.3).
            LOG.info("event=dmarc-rejected from_domain={} results=\"{}\"", sender.get().fromDomain(), sender.get().results());
            return reply(HookReturnCode.deny(), SMTPRetCode.MAILBOX_PERM_UNAVAILABLE,
                    DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.SECURITY_AUTH) + " Rejected: the DMARC policy of "
                            + sender.get().fromDomain() + " refuses mail that fails its SPF and DKIM checks");
        }
        String authentication = "Authentication-Results: " + authservId + ";" + sender
                .map(c -> "\r\n\t" + c.results().replace("; ", ";\r\n\t"))
                .orElse(" none (" + (origin == Origin.OWN_OUTBOUND ? "sent by this appliance: its own user or a notice"
                        : reply.isPresent() ? "no sender check" : "not checked: scanner unavailable") + ")");
        String spamStatus;
        if (!scanned) {
            spamStatus = "X-Spam-Status: No, not scanned (over " + maxScanBytes + " bytes)";
        } else {
            spamStatus = verdict.map(v -> "X-Spam-Status: " + (v.spam() ? "Yes" : "No") + ", score=" + v.score()
                    + " required=" + v.required() + " tests=" + String.join(",", v.rules()))
                    .orElse("X-Spam-Status: unscanned (scanner unavailable)");
        }
        byte[] message = verdict.map(v -> VerdictHeaders.apply(original, authservId, authentication,
                        "X-Spam-Flag: " + (v.spam() ? "YES" : "NO"), "X-Spam-Score: " + v.score(), spamStatus))
                .orElseGet(() -> VerdictHeaders.apply(original, authservId, authentication, spamStatus));
        boolean junk = verdict.filter(SpamScanner.Verdict::spam).isPresent()
                || disposition == SpamScanner.Disposition.QUARANTINE;
        String folder = junk ? Mailboxes.JUNK : Mailboxes.INBOX;
        String spam = !scanned ? "not-scanned-too-large" : verdict.map(v -> String.valueOf(v.score())).orElse("unscanned");
        if (key.isPresent()) {
            ledger.intend(key.get(), user, folder, mailboxes.nextUid(user, folder));
        }
        long uid = mailboxes.deliver(user, folder, message);
        if (key.isPresent()) {
            try {
                ledger.done(key.get(), uid);
            } catch (SQLException e) {
                // The message is stored: a retry finds it through the pending intent, so this is still a 250.
                LOG.warn("event=ledger-done-failed uid={} error={}", uid, e.toString());
            }
        }
        LOG.info("event=delivered folder={} uid={} bytes={} spam={} dmarc={}", folder, uid, message.length, spam,
                disposition.name().toLowerCase(Locale.ROOT));
        // What the thresholds call clearly ham or spam is learned as stored (with its verdict headers,
        // as a move to or from Junk would learn it), after the answer is decided.
        SpamScanner.Autolearn autolearn = reply.map(SpamScanner.Reply::autolearn).orElse(SpamScanner.Autolearn.NO);
        if (autolearn != SpamScanner.Autolearn.NO) {
            learner.learn(user, folder, uid, autolearn == SpamScanner.Autolearn.SPAM, SpamLearner.Why.AUTOLEARN);
        }
        return reply(HookReturnCode.ok(), SMTPRetCode.MAIL_OK,
                DSNStatus.getStatus(DSNStatus.SUCCESS, DSNStatus.CONTENT_OTHER) + " Delivered");
    }

    /** 451 so the sender retries, until the same failure has repeated often enough to quarantine the message. */
    private HookResult failed(String recipient, String user, MessageIdentity identity, byte[] original, Throwable error) {
        // The sender wrote it: one token of printable ASCII, so it cannot forge or split a log line.
        String messageId = identity.messageId().map(id -> id.replaceAll("[^\\x21-\\x7e]", "?")).orElse("none");
        try {
            Quarantine.Outcome outcome = quarantine.failed(recipient, user, identity, original, error);
            if (outcome.quarantined().isPresent()) {
                Quarantine.Item item = outcome.quarantined().get();
                LOG.error("event=quarantined id={} recipient={} message_id={} failures={} error={}",
                        item.id(), recipient, messageId, item.failures(), item.errorClass());
                return reply(HookReturnCode.ok(), SMTPRetCode.MAIL_OK,
                        DSNStatus.getStatus(DSNStatus.SUCCESS, DSNStatus.CONTENT_OTHER)
                                + " Kept in quarantine for the owner: the store cannot file this message");
            }
            LOG.warn("event=delivery-failed recipient={} message_id={} failures={} error={}",
                    recipient, messageId, outcome.failures(), error.toString());
        } catch (Exception | StackOverflowError counting) {
            LOG.warn("event=delivery-failed recipient={} message_id={} error={} counting_error={}",
                    recipient, messageId, error.toString(), counting.toString());
        }
        return couldNotStore();
    }

    private static HookResult couldNotStore() {
        return reply(HookReturnCode.denySoft(), SMTPRetCode.LOCAL_ERROR,
                DSNStatus.getStatus(DSNStatus.TRANSIENT, DSNStatus.UNDEFINED_STATUS) + " Could not store the message, try again later");
    }

    /**
     * The scanner's answer for the user: asked by their first recipient's delivery, shared with the
     * others. The sender (SPF, DKIM, DMARC: up to 12 s of lookups) is checked once per message, by its
     * first scan; the other users' scans judge only the text, and carry that first check.
     */
    private Optional<SpamScanner.Reply> replyOf(String user, MailEnvelope envelope, byte[] original, boolean spamCheck) {
        Scans scans = replies.computeIfAbsent(envelope, e -> new Scans());
        CompletableFuture<Optional<SpamScanner.Reply>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<SpamScanner.Reply>> earlier = scans.byUser.putIfAbsent(user, mine);
        if (earlier != null) {
            return earlier.join();
        }
        CompletableFuture<Optional<SpamScanner.Reply>> checker;
        synchronized (scans) {
            checker = scans.senderChecked;
            if (checker == null) {
                scans.senderChecked = mine;
            }
        }
        try {
            if (checker == null) {
                // The sender is checked only for the world's mail; without one the scanner checks no sender.
                mine.complete(scan(user, original, origin == Origin.INTERNET
                        ? Optional.of(envelope.getMaybeSender().asString("")) : Optional.empty(), spamCheck));
            } else {
                Optional<SpamScanner.Reply> first = checker.join();
                // The first scan failed: this one would be missing the sender check, so it is not asked
                // (no 30 s wait for an answer that would be thrown away); the delivery goes as the first did.
                mine.complete(first.isEmpty() || !spamCheck ? first
                        : withSenderOf(first.get(), scan(user, original, Optional.empty(), true)));
            }
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        }
        return mine.join();
    }

    /** This user's verdict with the message's sender check; no answer if this user's scan failed. */
    private static Optional<SpamScanner.Reply> withSenderOf(SpamScanner.Reply first, Optional<SpamScanner.Reply> own) {
        return own.map(o -> new SpamScanner.Reply(o.verdict(), first.sender(), o.autolearn()));
    }

    private Optional<SpamScanner.Reply> scan(String user, byte[] message, Optional<String> envelopeFrom, boolean spamCheck) {
        try {
            return Optional.of(scanner.scan(user, message, envelopeFrom.map(f -> f.replaceAll("[\\r\\n<>]", "")), spamCheck));
        } catch (IOException e) {
            LOG.warn("event=scan-failed error={}", e.getMessage());
            return Optional.empty();
        }
    }

    private static byte[] read(MailEnvelope envelope) throws IOException {
        try (InputStream in = envelope.getMessageInputStream()) {
            return in.readAllBytes();
        }
    }

    static HookResult reply(HookReturnCode code, String smtpCode, String text) {
        return HookResult.builder().hookReturnCode(code).smtpReturnCode(smtpCode).smtpDescription(text).build();
    }
}
