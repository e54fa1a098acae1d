package org.hearth.mail.inbound;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;

/**
 * Refuses, for good, a message whose DATA holds a bare CR or LF (a CR or LF not part of CRLF):
 * RFC 5321 2.3.8 forbids them, and they are what SMTP smuggling is made of. The refusal comes at
 * the real end of DATA ({@code <CRLF>.<CRLF>}, the only end {@link CrlfLineFrameDecoder} frames), so
 * the session stays in step with the client, and nothing of the message reaches the store. Hearth
 * refuses rather than repairs (Postfix's {@code smtpd_forbid_bare_newline=reject}, qmail, James's own
 * fix): a 5xx tells a broken sender at once, and the stored mail is always exactly what was sent.
 */
final class BareLineEndDataLineFilter implements DataLineFilter {

    static final String REFUSAL = "5.5.2 Message refused: bare <CR> or <LF> received, lines must end with <CR><LF>";

    private static final ProtocolSession.AttachmentKey<Boolean> SEEN =
            ProtocolSession.AttachmentKey.of("hearth.bare-line-end", Boolean.class);

    @Override
    public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
        boolean seen = session.getAttachment(SEEN, ProtocolSession.State.Transaction).orElse(false);
        if (isEndOfData(line)) {
            if (!seen) {
                return next.onLine(session, line);
            }
            // What DataLineMessageHookHandler does at the end, without running the message hooks.
            session.popLineHandler();
            session.resetState();
            return new SMTPResponse("550", REFUSAL);
        }
        if (seen || hasBareLineEnd(line)) {
            // The message is refused anyway: keep no more of it.
            session.setAttachment(SEEN, true, ProtocolSession.State.Transaction);
            return null;
        }
        return next.onLine(session, line);
    }

    private static boolean isEndOfData(byte[] line) {
        return line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n';
    }

    /** A CR or LF anywhere but in the CRLF that ends the line. */
    private static boolean hasBareLineEnd(byte[] line) {
        int end = line.length >= 2 && line[line.length - 2] == '\r' && line[line.length - 1] == '\n' ? line.length - 2 : line.length;
        for (int i = 0; i < end; i++) {
            if (line[i] == '\r' || line[i] == '\n') {
                return true;
            }
        }
        return false;
    }
}
