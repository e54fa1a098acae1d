package org.hearth.mail.store;

import org.apache.james.core.Username;
import org.apache.james.events.EventBus;
import org.apache.james.events.InVMEventBus;
import org.apache.james.events.MemoryEventDeadLetters;
import org.apache.james.events.RetryBackoffConfiguration;
import org.apache.james.events.delivery.InVmEventDelivery;
import org.apache.james.mailbox.Authenticator;
import org.apache.james.mailbox.Authorizator;
import org.apache.james.mailbox.MailboxManager;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.MessageManager;
import org.apache.james.mailbox.acl.UnionMailboxACLResolver;
import org.apache.james.mailbox.exception.MailboxException;
import org.apache.james.mailbox.exception.MailboxExistsException;
import org.apache.james.mailbox.jpa.JPAAttachmentContentLoader;
import org.apache.james.mailbox.jpa.JPAMailboxSessionMapperFactory;
import org.apache.james.mailbox.jpa.openjpa.OpenJPAMailboxManager;
import org.apache.james.mailbox.MessageUid;
import org.apache.james.mailbox.model.FetchGroup;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.mailbox.model.MessageResult;
import org.apache.james.mailbox.model.MessageResultIterator;
import org.apache.james.mailbox.store.SessionProviderImpl;
import org.apache.james.mailbox.store.StoreMailboxAnnotationManager;
import org.apache.james.mailbox.store.StoreRightManager;
import org.apache.james.mailbox.store.StoreSubscriptionManager;
import org.apache.james.mailbox.store.event.MailboxAnnotationListener;
import org.apache.james.mailbox.store.extractor.DefaultTextExtractor;
import org.apache.james.mailbox.store.mail.NaiveThreadIdGuessingAlgorithm;
import org.apache.james.mailbox.store.mail.model.DefaultMessageId;
import org.apache.james.mailbox.store.mail.model.impl.MessageParser;
import org.apache.james.mailbox.store.quota.QuotaComponents;
import org.apache.james.mailbox.store.search.SimpleMessageSearchIndex;
import org.apache.james.metrics.api.MetricFactory;
import reactor.core.publisher.Mono;

import javax.persistence.EntityManagerFactory;
import javax.persistence.Persistence;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The mailbox store: Apache James's JPA mailbox over embedded Derby on the app's volume. Every
 * user gets INBOX, Sent, Drafts, Trash and Junk; delivery appends and commits before returning,
 * so an LMTP 250 means the message is on disk.
 */
final class Mailboxes implements AutoCloseable {

    static final String INBOX = "INBOX";
    /** Where spam goes; advertised as \Junk (RFC 6154). */
    static final String JUNK = "Junk";
    static final List<String> FOLDERS = List.of(INBOX, "Sent", "Drafts", "Trash", JUNK);

    private final EntityManagerFactory emf;
    final OpenJPAMailboxManager manager;
    final EventBus eventBus;
    final StoreSubscriptionManager subscriptions;
    final QuotaComponents quota;
    private final Set<String> provisioned = ConcurrentHashMap.newKeySet();

    Mailboxes(Path database, Authenticator authenticator, MetricFactory metrics) {
        emf = Persistence.createEntityManagerFactory("James", Map.of("openjpa.ConnectionURL", jdbcUrl(database)));
        JPAMailboxSessionMapperFactory mappers = KeyedDeletes.mappers(emf);
        eventBus = new InTurnEventBus(new InVMEventBus(new InVmEventDelivery(metrics), RetryBackoffConfiguration.DEFAULT,
                new MemoryEventDeadLetters()));
        Authorizator sameUserOnly = (user, other) -> user.equals(other)
                ? Authorizator.AuthorizationState.ALLOWED : Authorizator.AuthorizationState.FORBIDDEN;
        StoreRightManager rights = new StoreRightManager(mappers, new UnionMailboxACLResolver(), eventBus);
        SessionProviderImpl sessions = new SessionProviderImpl(authenticator, sameUserOnly);
        quota = QuotaComponents.disabled(sessions, mappers);
        manager = new OpenJPAMailboxManager(mappers, sessions, new MessageParser(), new DefaultMessageId.Factory(),
                eventBus, new StoreMailboxAnnotationManager(mappers, rights), rights, quota,
                new SimpleMessageSearchIndex(mappers, mappers, new DefaultTextExtractor(), new JPAAttachmentContentLoader()),
                new NaiveThreadIdGuessingAlgorithm(), Clock.systemUTC());
        eventBus.register(new MailboxAnnotationListener(mappers, sessions));
        subscriptions = new StoreSubscriptionManager(mappers, mappers, eventBus);
    }

    /** The embedded Derby database's URL; other stores in this JVM (the delivery ledger) open it too. */
    static String jdbcUrl(Path database) {
        return "jdbc:derby:" + database + ";create=true";
    }

    /** Creates the user's standard folders, subscribed, where missing. */
    void provision(String user) throws MailboxException {
        if (!provisioned.contains(user)) {
            provisionOnce(user);
        }
    }

    // Serialised: concurrent first deliveries to a new user must not race to create the same folder.
    private synchronized void provisionOnce(String user) throws MailboxException {
        if (provisioned.contains(user)) {
            return;
        }
        Username username = Username.of(user);
        MailboxSession session = manager.createSystemSession(username);
        manager.startProcessingRequest(session);
        try {
            for (String folder : FOLDERS) {
                MailboxPath path = MailboxPath.forUser(username, folder);
                if (!Boolean.TRUE.equals(Mono.from(manager.mailboxExists(path, session)).block())) {
                    try {
                        manager.createMailbox(path, MailboxManager.CreateOption.CREATE_SUBSCRIPTION, session);
                    } catch (MailboxExistsException e) {
                        // The user's first IMAP login provisions the same folders (James's own
                        // provisioning, outside this lock): made meanwhile is made.
                    }
                }
            }
        } finally {
            manager.endProcessingRequest(session);
        }
        provisioned.add(user);
    }

    /** Appends and commits {@code message} to the user's folder; returns its UID. */
    long deliver(String user, String folder, byte[] message) throws MailboxException {
        provision(user);
        Username username = Username.of(user);
        MailboxSession session = manager.createSystemSession(username);
        manager.startProcessingRequest(session);
        try {
            return manager.getMailbox(MailboxPath.forUser(username, folder), session)
                    .appendMessage(MessageManager.AppendCommand.builder().recent().delivery().build(message), session)
                    .getId().getUid().asLong();
        } finally {
            manager.endProcessingRequest(session);
        }
    }

    /** The UID the folder's next message will get; every later append gets this one or a higher one. */
    long nextUid(String user, String folder) throws MailboxException {
        provision(user);
        Username username = Username.of(user);
        MailboxSession session = manager.createSystemSession(username);
        manager.startProcessingRequest(session);
        try {
            return manager.getMailbox(MailboxPath.forUser(username, folder), session)
                    .getMetaData(MessageManager.MailboxMetaData.RecentMode.IGNORE, session,
                            EnumSet.of(MessageManager.MailboxMetaData.Item.NextUid))
                    .getUidNext().asLong();
        } finally {
            manager.endProcessingRequest(session);
        }
    }

    /** The UID of a message in the folder, at {@code fromUid} or later, with this identity. */
    Optional<Long> find(String user, String folder, long fromUid, MessageIdentity identity) throws MailboxException {
        provision(user);
        Username username = Username.of(user);
        MailboxSession session = manager.createSystemSession(username);
        manager.startProcessingRequest(session);
        try {
            MessageResultIterator messages = manager.getMailbox(MailboxPath.forUser(username, folder), session)
                    .getMessages(MessageRange.from(MessageUid.of(fromUid)), FetchGroup.FULL_CONTENT, session);
            while (messages.hasNext()) {
                MessageResult m = messages.next();
                byte[] content;
                try (InputStream in = m.getFullContent().getInputStream()) {
                    content = in.readAllBytes();
                }
                if (MessageIdentity.of(content).equals(identity)) {
                    return Optional.of(m.getUid().asLong());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new MailboxException("cannot read a stored message", e);
        } finally {
            manager.endProcessingRequest(session);
        }
    }

    /** The message with this UID in the user's folder, whole; empty if it is gone. */
    Optional<byte[]> content(String user, String folder, long uid) throws MailboxException {
        Username username = Username.of(user);
        MailboxSession session = manager.createSystemSession(username);
        manager.startProcessingRequest(session);
        try {
            MessageResultIterator messages = manager.getMailbox(MailboxPath.forUser(username, folder), session)
                    .getMessages(MessageRange.one(MessageUid.of(uid)), FetchGroup.FULL_CONTENT, session);
            if (!messages.hasNext()) {
                return Optional.empty();
            }
            try (InputStream in = messages.next().getFullContent().getInputStream()) {
                return Optional.of(in.readAllBytes());
            }
        } catch (IOException e) {
            throw new MailboxException("cannot read a stored message", e);
        } finally {
            manager.endProcessingRequest(session);
        }
    }

    @Override
    public void close() {
        emf.close();
    }
}
