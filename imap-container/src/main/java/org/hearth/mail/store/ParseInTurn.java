package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.ImapSessionState;
import org.apache.james.imap.api.Tag;
import org.apache.james.imap.api.display.HumanReadableText;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.decode.ImapDecoder;
import org.apache.james.imap.message.response.UnpooledStatusResponseFactory;
import org.apache.james.imapserver.netty.NettyImapRequestLineReader;
import reactor.core.publisher.Mono;


/**
 * Parses each {@link FramedCommand} only when its turn to run comes, then hands it to James's
 * processors. James parses a command as soon as its bytes arrive, against the session's state at
 * that moment: a SELECT pipelined behind LOGIN was refused as "not valid in this state" (or, in
 * the not-authenticated state, counted as unknown and the connection closed). James runs a
 * channel's commands one after another, so parsing inside the command's own turn sees the state
 * every command before it left.
 */
final class ParseInTurn implements ImapProcessor {

    private static final UnpooledStatusResponseFactory RESPONSES = new UnpooledStatusResponseFactory();

    private final ImapDecoder parser;
    private final ImapProcessor processors;

    ParseInTurn(ImapDecoder parser, ImapProcessor processors) {
        this.parser = parser;
        this.processors = processors;
    }

    @Override
    public Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        if (!(message instanceof FramedCommand command)) {
            return processors.processReactive(message, responder, session);
        }
        return Mono.defer(() -> {
            if (session.getState() == ImapSessionState.LOGOUT) {
                return Mono.empty(); // nothing runs after LOGOUT; the connection is closing
            }
            return processors.processReactive(parse(command, session), responder, session);
        });
    }

    private ImapMessage parse(FramedCommand command, ImapSession session) {
        try {
            // retry=true: a synchronizing literal's continuation was sent while it was framed.
            return parser.decode(new NettyImapRequestLineReader(command.channel(), command.bytes(), true, 0), session);
        } catch (NettyImapRequestLineReader.NotEnoughDataException e) {
            // The parser wanted more than the whole command: it is malformed.
            return RESPONSES.taggedBad(new Tag(command.tag()), null, HumanReadableText.ILLEGAL_ARGUMENTS);
        }
    }

    @Override
    public void configure(ImapConfiguration configuration) {
        processors.configure(configuration);
    }
}
