package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.display.HumanReadableText;
import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.message.response.StatusResponse;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.message.response.UnpooledStatusResponseFactory;
import reactor.core.publisher.Mono;

/**
 * Adds RFC 5530's {@code [ALREADYEXISTS]} to James's "Mailbox already exists" refusals of CREATE
 * and RENAME. A sync client creating a new folder's parents (offlineimap) ignores the refusal
 * only when the code says the folder is there.
 */
final class AlreadyExistsCode implements ImapProcessor {

    private static final UnpooledStatusResponseFactory RESPONSES = new UnpooledStatusResponseFactory();

    private final ImapProcessor james;

    AlreadyExistsCode(ImapProcessor james) {
        this.james = james;
    }

    @Override
    public Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        return james.processReactive(message, new Responder() {
            @Override
            public void respond(ImapResponseMessage response) {
                responder.respond(withCode(response));
            }

            @Override
            public void flush() {
                responder.flush();
            }
        }, session);
    }

    private static ImapResponseMessage withCode(ImapResponseMessage response) {
        if (response instanceof StatusResponse status
                && status.getServerResponseType() == StatusResponse.Type.NO
                && status.getResponseCode() == null
                && status.getTag() != null
                && (HumanReadableText.MAILBOX_EXISTS.equals(status.getTextKey())
                    || HumanReadableText.FAILURE_MAILBOX_EXISTS.equals(status.getTextKey()))) {
            return RESPONSES.taggedNo(status.getTag(), status.getCommand(), status.getTextKey(), ResponseCodes.ALREADYEXISTS);
        }
        return response;
    }

    @Override
    public void configure(ImapConfiguration configuration) {
        james.configure(configuration);
    }
}
