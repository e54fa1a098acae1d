package org.hearth.mail.store;

import org.apache.james.imap.api.display.HumanReadableText;
import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.message.response.StatusResponse;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.message.response.UnpooledStatusResponseFactory;

import java.util.List;

/**
 * Adds RFC 5530's {@code [ALREADYEXISTS]} to James's "Mailbox already exists" refusals of CREATE
 * and RENAME. A sync client creating a new folder's parents (offlineimap) ignores the refusal
 * only when the code says the folder is there.
 */
final class AlreadyExistsCode extends ResponseFilter {

    private static final UnpooledStatusResponseFactory RESPONSES = new UnpooledStatusResponseFactory();

    AlreadyExistsCode(ImapProcessor james) {
        super(james);
    }

    @Override
    List<ImapResponseMessage> filter(ImapResponseMessage response, ImapSession session) {
        if (response instanceof StatusResponse status
                && status.getServerResponseType() == StatusResponse.Type.NO
                && status.getResponseCode() == null
                && status.getTag() != null
                && (HumanReadableText.MAILBOX_EXISTS.equals(status.getTextKey())
                    || HumanReadableText.FAILURE_MAILBOX_EXISTS.equals(status.getTextKey()))) {
            return List.of(RESPONSES.taggedNo(status.getTag(), status.getCommand(), status.getTextKey(),
                    ResponseCodes.ALREADYEXISTS));
        }
        return List.of(response);
    }
}
