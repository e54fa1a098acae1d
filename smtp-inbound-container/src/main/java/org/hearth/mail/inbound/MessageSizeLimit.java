package org.hearth.mail.inbound;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.MailSizeEsmtpExtension;
import org.apache.james.protocols.smtp.dsn.DSNStatus;

/**
 * James's SIZE extension (SIZE in EHLO, 552 at MAIL FROM for a larger SIZE=, stop keeping lines once
 * DATA passes the limit), with the end-of-DATA refusal made a proper permanent one: James answers it
 * {@code 552 Quota exceeded}, without the {@code 5.3.4} (message too big) status senders act on.
 * Its message hook, ahead of {@link StoreHandOff}, keeps the oversize message from the store, and
 * what was kept of the message is let go as soon as it passes the limit, not at its end.
 */
final class MessageSizeLimit extends MailSizeEsmtpExtension {

    private static final String TOO_BIG = DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.SYSTEM_MSG_TOO_BIG)
            + " Message size exceeds fixed maximum message size";

    @Override
    public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
        long max = session.getConfiguration().getMaxMessageSize();
        boolean over = max > 0 && session.currentMessageSize() > max;
        Response response = super.onLine(session, line, next);
        if (!over && max > 0 && session.currentMessageSize() > max) {
            session.getAttachment(DataCmdHandler.MAILENV, ProtocolSession.State.Transaction)
                    .filter(ChunkedMailEnvelope.class::isInstance).map(ChunkedMailEnvelope.class::cast)
                    .ifPresent(ChunkedMailEnvelope::discard);
        }
        return over && response != null ? new SMTPResponse(SMTPRetCode.QUOTA_EXCEEDED, TOO_BIG) : response;
    }
}
