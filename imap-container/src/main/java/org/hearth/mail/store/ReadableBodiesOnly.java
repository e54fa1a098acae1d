package org.hearth.mail.store;

import org.apache.james.imap.api.message.response.ImapResponseMessage;
import org.apache.james.imap.api.process.ImapProcessor;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.message.response.FetchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Lets a FETCH response out only once the message text it carries can be read.
 *
 * <p>James 3.8.1 writes a literal's announced length ({@code {2858}}) before it opens the text,
 * which the JPA store loads only then; when another session has expunged the message meanwhile,
 * the load fails, no text follows, and the command ends {@code NO} in the middle of the response:
 * the client reads the next replies as the literal's octets (issue #21's load, with EXPUNGE).
 * Opening each body first loads it into the message; a message that is gone is left out of the
 * reply, as James already does for one it cannot find (RFC 2180 section 4.1.2).
 */
final class ReadableBodiesOnly extends ResponseFilter {

    private static final Logger LOG = LoggerFactory.getLogger(ReadableBodiesOnly.class);

    ReadableBodiesOnly(ImapProcessor james) {
        super(james);
    }

    @Override
    List<ImapResponseMessage> filter(ImapResponseMessage response, ImapSession session) {
        return response instanceof FetchResponse fetch && !readable(fetch) ? List.of() : List.of(response);
    }

    private static boolean readable(FetchResponse fetch) {
        if (fetch.getElements() == null) {
            return true;
        }
        for (FetchResponse.BodyElement body : fetch.getElements()) {
            try (InputStream in = body.getInputStream()) {
                // opened: the text is loaded and the writer will open it again from memory
            } catch (IOException | RuntimeException e) {
                LOG.info("event=fetch-skipped uid={} reason={}", fetch.getUid(), e.getClass().getSimpleName());
                return false;
            }
        }
        return true;
    }
}
