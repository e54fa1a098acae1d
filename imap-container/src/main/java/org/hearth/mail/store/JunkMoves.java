package org.hearth.mail.store;

import org.apache.james.imap.api.ImapConfiguration;
import org.apache.james.imap.api.ImapMessage;
import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.message.response.StatusResponse;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.api.process.SelectedMailbox;
import org.apache.james.imap.message.request.AbstractMessageRangeRequest;
import org.apache.james.imap.message.request.CopyRequest;
import org.apache.james.imap.message.request.MoveRequest;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * James's processors, watched for the owner's verdicts: a COPY or MOVE into Junk says "spam", one
 * out of Junk into any folder but Trash says "not spam". The copies' new UIDs come from the
 * command's COPYUID answer (RFC 4315), so the learner reads exactly the messages the command made.
 * Every client goes through here: Thunderbird, K-9, iOS Mail and the webmail alike.
 */
final class JunkMoves implements ImapProcessor {

    private static final String TRASH = "Trash";

    private final ImapProcessor james;
    private final SpamLearner learner;

    JunkMoves(ImapProcessor james, SpamLearner learner) {
        this.james = james;
        this.learner = learner;
    }

    @Override
    public Mono<Void> processReactive(ImapMessage message, Responder responder, ImapSession session) {
        if (!(message instanceof CopyRequest || message instanceof MoveRequest) || session.getSelected() == null
                || session.getUserName() == null) {
            return james.processReactive(message, responder, session);
        }
        SelectedMailbox selected = session.getSelected();
        String target = ((AbstractMessageRangeRequest) message).getMailboxName();
        // A selected folder another session deleted has no path: James answers the command itself.
        return selected.getPathReactive().map(path -> Optional.of(path.getName()))
                .onErrorReturn(Optional.empty()).defaultIfEmpty(Optional.empty()).flatMap(known -> {
            String source = known.orElse("");
            boolean intoJunk = known.isPresent() && target.equals(Mailboxes.JUNK) && !source.equals(Mailboxes.JUNK);
            boolean outOfJunk = source.equals(Mailboxes.JUNK) && !target.equals(Mailboxes.JUNK) && !target.equals(TRASH);
            if (!intoJunk && !outOfJunk) {
                return james.processReactive(message, responder, session);
            }
            String user = session.getUserName().asString();
            return james.processReactive(message, new Responder() {
                @Override
                public void respond(ImapResponseMessage response) {
                    if (response instanceof StatusResponse status && status.getResponseCode() != null
                            && "COPYUID".equals(status.getResponseCode().getCode())) {
                        List<String> ranges = new ArrayList<>(status.getResponseCode().getParameters());
                        for (long uid : uids(ranges.get(ranges.size() - 1))) {
                            learner.learn(user, target, uid, intoJunk,
                                    intoJunk ? SpamLearner.Why.MOVED_TO_JUNK : SpamLearner.Why.MOVED_OUT_OF_JUNK);
                        }
                    }
                    responder.respond(response);
                }

                @Override
                public void flush() {
                    responder.flush();
                }
            }, session);
        });
    }

    /** The UIDs of an IMAP sequence set of UIDs ("4:6,9"). */
    static List<Long> uids(String set) {
        List<Long> uids = new ArrayList<>();
        for (String part : set.split(",")) {
            String[] ends = part.split(":");
            long first = Long.parseLong(ends[0].strip());
            long last = ends.length > 1 ? Long.parseLong(ends[1].strip()) : first;
            for (long uid = Math.min(first, last); uid <= Math.max(first, last); uid++) {
                uids.add(uid);
            }
        }
        return uids;
    }

    @Override
    public void configure(ImapConfiguration configuration) {
        james.configure(configuration);
    }
}
