package org.hearth.mail.store;

import org.apache.james.mailbox.MessageUid;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.exception.MailboxException;
import org.apache.james.mailbox.jpa.JPAId;
import org.apache.james.mailbox.jpa.JPAMailboxSessionMapperFactory;
import org.apache.james.mailbox.jpa.mail.JPAMessageMapper;
import org.apache.james.mailbox.jpa.mail.JPAModSeqProvider;
import org.apache.james.mailbox.jpa.mail.JPAUidProvider;
import org.apache.james.mailbox.model.Mailbox;
import org.apache.james.mailbox.model.MessageMetaData;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.mailbox.store.mail.MessageMapper;

import javax.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * James's JPA message mapper with expunge's deletes done by primary key.
 *
 * <p>James 3.8.1 deletes each expunged UID range with a JPQL bulk delete on the path
 * {@code message.mailbox.mailboxId}; OpenJPA turns it into SQL that Derby runs as a scan of the
 * whole {@code JAMES_MAIL} table (every user's messages, bodies included) per range. Ten scattered
 * UIDs, ten scans: 24 s in a store of 3,000 messages, growing with the store, and mbsync gives up
 * on a server silent for 20 s (issue #21). Here each range is deleted by its key, the message's
 * properties and user flags first, so that the parent row is never held by a child.
 */
final class KeyedDeletes extends JPAMessageMapper {

    /** The tables holding a message's rows, children first; each keyed by (MAILBOX_ID, MAIL_UID). */
    private static final List<String> TABLES = List.of("JAMES_MAIL_PROPERTY", "JAMES_MAIL_USERFLAG", "JAMES_MAIL");

    KeyedDeletes(JPAUidProvider uids, JPAModSeqProvider modSeqs, EntityManagerFactory emf) {
        super(uids, modSeqs, emf);
    }

    @Override
    public Map<MessageUid, MessageMetaData> deleteMessages(Mailbox mailbox, List<MessageUid> uids) throws MailboxException {
        long mailboxId = ((JPAId) mailbox.getMailboxId()).getRawId();
        Map<MessageUid, MessageMetaData> deleted = new HashMap<>();
        for (MessageRange range : MessageRange.toRanges(uids)) {
            findInMailbox(mailbox, range, MessageMapper.FetchType.METADATA, -1)
                    .forEachRemaining(m -> deleted.put(m.getUid(), m.metaData()));
            for (String table : TABLES) {
                getEntityManager().createNativeQuery("DELETE FROM " + table
                                + " WHERE MAILBOX_ID = ? AND MAIL_UID BETWEEN ? AND ?")
                        .setParameter(1, mailboxId)
                        .setParameter(2, range.getUidFrom().asLong())
                        .setParameter(3, range.getUidTo().asLong())
                        .executeUpdate();
            }
        }
        return deleted;
    }

    /** James's JPA mappers, with this one for messages. */
    static JPAMailboxSessionMapperFactory mappers(EntityManagerFactory emf) {
        JPAUidProvider uids = new JPAUidProvider(emf);
        JPAModSeqProvider modSeqs = new JPAModSeqProvider(emf);
        return new JPAMailboxSessionMapperFactory(emf, uids, modSeqs) {
            @Override
            public MessageMapper createMessageMapper(MailboxSession session) {
                return new KeyedDeletes(uids, modSeqs, emf);
            }
        };
    }
}
