package org.hearth.mail.inbound;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;

/**
 * Makes {@code <CRLF>.<CRLF>} the only end of DATA, and turns a bare LF or bare CR inside DATA into
 * CRLF, as Postfix's default {@code smtpd_forbid_bare_newline = normalize} does. James ends DATA at
 * any line that is a lone dot, also one that follows a bare LF: {@code <LF>.<CRLF>} ended the message
 * here while the sending server saw message text, and the rest ran as a second transaction (SMTP
 * smuggling, CVE-2023-51747; James fixed it only in its server's own DATA handler, which this chain
 * does not use). Here a line next to a bare line end is always text: one the client left unstuffed
 * is stuffed before James unstuffs it, so a lone dot there stays a dot. Normalising rather than
 * refusing keeps mail from the many scripts and old clients that end lines in LF (Python's email
 * package among them): RFC 5321 forbids it, but a 5xx would bounce real mail for no gain in safety.
 */
final class BareLineEndNormalizer implements DataLineFilter {

    private static final ProtocolSession.AttachmentKey<Boolean> AFTER_BARE_LF =
            ProtocolSession.AttachmentKey.of("hearth.after-bare-lf", Boolean.class);

    @Override
    public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
        boolean afterBareLf = session.getAttachment(AFTER_BARE_LF, ProtocolSession.State.Transaction).orElse(false);
        boolean crlf = line.length >= 2 && line[line.length - 2] == '\r' && line[line.length - 1] == '\n';
        boolean bareLf = !crlf && line.length >= 1 && line[line.length - 1] == '\n';
        int end = line.length - (crlf ? 2 : bareLf ? 1 : 0);
        int to = nextBareCr(line, 0, end);
        session.setAttachment(AFTER_BARE_LF, bareLf, ProtocolSession.State.Transaction);
        if (!afterBareLf && !bareLf && to == end) {
            // A line between two CRLFs: James's own handling, the real end of DATA included.
            return next.onLine(session, line);
        }
        // Each piece between bare line ends goes on as a text line of its own, with CRLF.
        Response response = null;
        for (int from = 0; ; from = to + 1, to = nextBareCr(line, from, end)) {
            Response r = next.onLine(session, dotSafe(line, from, to));
            response = r != null ? r : response;
            if (to >= end) {
                return response;
            }
        }
    }

    /** Inside a frame (it ends at the first LF), only a CR can be a bare line end. */
    private static int nextBareCr(byte[] line, int from, int end) {
        for (int i = from; i < end; i++) {
            if (line[i] == '\r') {
                return i;
            }
        }
        return end;
    }

    /** The text with CRLF, stuffed if the client left it unstuffed, so James's unstuffing gives the text back. */
    private static byte[] dotSafe(byte[] line, int from, int to) {
        boolean unstuffed = to > from && line[from] == '.' && (to - from < 2 || line[from + 1] != '.');
        int offset = unstuffed ? 1 : 0;
        byte[] out = new byte[to - from + 2 + offset];
        if (unstuffed) {
            out[0] = '.';
        }
        System.arraycopy(line, from, out, offset, to - from);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }
}
