package org.hearth.mail.store;

import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.api.process.SelectedMailbox;
import org.apache.james.imap.message.response.ExistsResponse;
import org.apache.james.imap.message.response.ExpungeResponse;
import org.apache.james.imap.message.response.FetchResponse;

import java.util.List;

/**
 * Keeps James's replies to message sequence numbers the client has been told of (RFC 3501 2.3.1.2:
 * a number names a message only once EXISTS has counted it).
 *
 * <p>With another session appending and expunging, James 3.8.1 sent {@code * -1 EXPUNGE} for a
 * message this session never saw (added and expunged between two of its looks; the grammar allows
 * only numbers from 1), and a FETCH of a just-added message before the EXISTS that counts it, both
 * in issue #21's load with churn (about 100 in two minutes). Its SELECT takes EXISTS from the
 * mailbox's count but numbers messages in the session's view, read apart: with mail arriving
 * between the two, {@code * 1 EXISTS} came with a view still empty, and the client's {@code FETCH
 * 1:*} was refused as an invalid message set (seen in TwoAppliancesTest). A client that trusts the numbers
 * shifts its view of the mailbox and flags or deletes the wrong message. Here an EXPUNGE of a
 * message the client never saw is left out, a FETCH of one beyond the count the client knows is
 * preceded by the EXISTS that counts it, and an EXISTS never counts more than the view holds (the
 * view's own EXISTS tells the client of the rest at its next command).
 */
final class AnnouncedMessagesOnly extends ResponseFilter {

    private static final String ANNOUNCED = "hearth.announced-messages";

    AnnouncedMessagesOnly(ImapProcessor james) {
        super(james);
    }

    /** The number of messages the client knows the selected mailbox holds. */
    private static final class Announced {
        private long count;
    }

    @Override
    List<ImapResponseMessage> filter(ImapResponseMessage response, ImapSession session) {
        Announced announced = announced(session);
        synchronized (announced) {
            if (response instanceof ExistsResponse exists) {
                SelectedMailbox selected = session.getSelected();
                if (selected != null && selected.existsCount() < exists.getNumberOfMessages()) {
                    // SELECT's count, read from the mailbox apart from the view its numbers come from
                    announced.count = selected.existsCount();
                    return List.of(new ExistsResponse(announced.count));
                }
                announced.count = exists.getNumberOfMessages();
            } else if (response instanceof ExpungeResponse expunge) {
                int msn = expunge.getMessageSequenceNumber().asInt().orElse(0);
                if (msn < 1 || msn > announced.count) {
                    return List.of(); // never counted for this client: it has nothing to forget
                }
                announced.count--;
            } else if (response instanceof FetchResponse fetch && fetch.getMessageNumber().asInt() > announced.count) {
                SelectedMailbox selected = session.getSelected();
                if (selected == null || selected.existsCount() < fetch.getMessageNumber().asInt()) {
                    return List.of();
                }
                announced.count = selected.existsCount();
                return List.of(new ExistsResponse(announced.count), response);
            }
            return List.of(response);
        }
    }

    private static Announced announced(ImapSession session) {
        synchronized (session) {
            Announced announced = (Announced) session.getAttribute(ANNOUNCED);
            if (announced == null) {
                announced = new Announced();
                session.setAttribute(ANNOUNCED, announced);
            }
            return announced;
        }
    }
}
