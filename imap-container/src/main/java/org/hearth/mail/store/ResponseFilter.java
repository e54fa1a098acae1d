package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import reactor.core.publisher.Mono;

import java.util.Optional;

/** James's processors, with each response they make passed through {@link #filter} on its way out. */
abstract class ResponseFilter implements ImapProcessor {

    private final ImapProcessor james;

    ResponseFilter(ImapProcessor james) {
        this.james = james;
    }

    /** The response to send instead of {@code response}, or none to leave it out. */
    abstract Optional<ImapResponseMessage> filter(ImapResponseMessage response);

    @Override
    public final Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        return james.processReactive(message, new Responder() {
            @Override
            public void respond(ImapResponseMessage response) {
                filter(response).ifPresent(responder::respond);
            }

            @Override
            public void flush() {
                responder.flush();
            }
        }, session);
    }

    @Override
    public final void configure(ImapConfiguration configuration) {
        james.configure(configuration);
    }
}
