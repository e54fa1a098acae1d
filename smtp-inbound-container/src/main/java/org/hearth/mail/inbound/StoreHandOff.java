package org.hearth.mail.inbound;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.handler.DisconnectHandler;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MessageHook;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * Inbound SMTP keeps no queue: each transaction is mirrored live onto an LMTP session with the
 * mail store. The store decides every recipient (its verdict is relayed as is), and the SMTP
 * client gets 250 only after the store has answered 250 for every recipient, meaning the message
 * is on disk. Anything else downstream is a 451, so the sender keeps the message and retries.
 */
final class StoreHandOff implements RcptHook, MessageHook, DisconnectHandler<SMTPSession> {

    private static final Logger LOG = LoggerFactory.getLogger(StoreHandOff.class);
    private static final ProtocolSession.AttachmentKey<LmtpClient> CLIENT =
            ProtocolSession.AttachmentKey.of("hearth.lmtp", LmtpClient.class);
    private static final ProtocolSession.AttachmentKey<Boolean> MAIL_SENT =
            ProtocolSession.AttachmentKey.of("hearth.lmtp.mail", Boolean.class);

    private final InetSocketAddress store;
    private final String hostname;
    private final int timeoutMillis;

    StoreHandOff(InetSocketAddress store, String hostname, int timeoutMillis) {
        this.store = store;
        this.hostname = hostname;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        try {
            LmtpClient client = client(session);
            if (session.getAttachment(MAIL_SENT, ProtocolSession.State.Transaction).isEmpty()) {
                client.reset();
                LmtpClient.Reply mail = client.mailFrom(sender.isNullSender() ? "" : sender.asString());
                if (!mail.positive()) {
                    return relay(mail);
                }
                session.setAttachment(MAIL_SENT, true, ProtocolSession.State.Transaction);
            }
            LmtpClient.Reply reply = client.rcptTo(rcpt.asString());
            return reply.positive() ? HookResult.OK : relay(reply);
        } catch (IOException e) {
            drop(session);
            LOG.warn("event=store-unreachable step=rcpt error={}", e.getMessage());
            return tempfail(DSNStatus.SYSTEM_OTHER, "Mail store unavailable, try again later");
        }
    }

    @Override
    public HookResult onMessage(SMTPSession session, MailEnvelope envelope) {
        Optional<LmtpClient> client = session.getAttachment(CLIENT, ProtocolSession.State.Connection);
        if (client.isEmpty() || session.getAttachment(MAIL_SENT, ProtocolSession.State.Transaction).isEmpty()) {
            return tempfail(DSNStatus.SYSTEM_OTHER, "Lost the mail store, try again later");
        }
        try {
            // Streamed, not copied: a message near the size limit held twice does not fit the heap.
            List<LmtpClient.Reply> replies;
            long size = envelope.getSize();
            try (InputStream in = envelope.getMessageInputStream()) {
                replies = client.get().data(in, envelope.getRecipients().size());
            }
            session.removeAttachment(MAIL_SENT, ProtocolSession.State.Transaction);
            if (replies.size() == envelope.getRecipients().size() && replies.stream().allMatch(LmtpClient.Reply::positive)) {
                LOG.info("event=accepted recipients={} bytes={}", replies.size(), size);
                return HookResult.builder().hookReturnCode(HookReturnCode.ok()).smtpReturnCode(SMTPRetCode.MAIL_OK)
                        .smtpDescription(DSNStatus.getStatus(DSNStatus.SUCCESS, DSNStatus.CONTENT_OTHER) + " Stored").build();
            }
            if (replies.stream().allMatch(LmtpClient.Reply::permanent)) {
                return relay(replies.get(0));
            }
            // Some recipients failed for now: the sender retries all (a stored copy may be delivered twice, never lost).
            LOG.warn("event=tempfailed replies={}", replies);
            LmtpClient.Reply first = replies.stream().filter(r -> !r.positive()).findFirst().orElse(replies.get(0));
            return HookResult.builder().hookReturnCode(HookReturnCode.denySoft()).smtpReturnCode(SMTPRetCode.LOCAL_ERROR)
                    .smtpDescription(first.positive() ? "4.3.0 Try again later" : first.text()).build();
        } catch (IOException e) {
            drop(session);
            LOG.warn("event=store-unreachable step=data error={}", e.getMessage());
            return tempfail(DSNStatus.SYSTEM_OTHER, "Mail store unavailable, try again later");
        }
    }

    @Override
    public void onDisconnect(SMTPSession session) {
        drop(session);
    }

    private LmtpClient client(SMTPSession session) throws IOException {
        Optional<LmtpClient> existing = session.getAttachment(CLIENT, ProtocolSession.State.Connection);
        if (existing.isPresent()) {
            return existing.get();
        }
        LmtpClient client = new LmtpClient(store, hostname, timeoutMillis);
        session.setAttachment(CLIENT, client, ProtocolSession.State.Connection);
        return client;
    }

    private static void drop(SMTPSession session) {
        session.removeAttachment(CLIENT, ProtocolSession.State.Connection).ifPresent(LmtpClient::close);
        session.removeAttachment(MAIL_SENT, ProtocolSession.State.Transaction);
    }

    /** The store's own answer, passed to the SMTP client unchanged. */
    private static HookResult relay(LmtpClient.Reply reply) {
        return HookResult.builder()
                .hookReturnCode(reply.permanent() ? HookReturnCode.deny() : HookReturnCode.denySoft())
                .smtpReturnCode(String.valueOf(reply.code())).smtpDescription(reply.text()).build();
    }

    private static HookResult tempfail(String detail, String text) {
        return HookResult.builder().hookReturnCode(HookReturnCode.denySoft()).smtpReturnCode(SMTPRetCode.LOCAL_ERROR)
                .smtpDescription(DSNStatus.getStatus(DSNStatus.TRANSIENT, detail) + " " + text).build();
    }
}
