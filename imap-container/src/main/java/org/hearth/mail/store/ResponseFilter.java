package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import reactor.core.publisher.Mono;

import java.util.List;

/** James's processors, with each response they make passed through {@link #filter} on its way out. */
abstract class ResponseFilter implements ImapProcessor {

    private final ImapProcessor james;

    ResponseFilter(ImapProcessor james) {
        this.james = james;
    }

    /** The responses to send instead of {@code response}, in order: none leaves it out. */
    abstract List<ImapResponseMessage> filter(ImapResponseMessage response, ImapSession session);

    @Override
    public final Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        return james.processReactive(message, new Responder() {
            @Override
            public void respond(ImapResponseMessage response) {
                filter(response, session).forEach(responder::respond);
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
