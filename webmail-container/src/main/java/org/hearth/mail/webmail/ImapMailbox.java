package org.hearth.mail.webmail;

import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.BodyTerm;
import jakarta.mail.search.FromStringTerm;
import jakarta.mail.search.OrTerm;
import jakarta.mail.search.SearchTerm;
import jakarta.mail.search.SubjectTerm;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPMessage;
import org.eclipse.angus.mail.imap.IMAPStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * One session's connection to the store, over IMAP with STARTTLS and the owner's own login: the
 * store decides what the owner may see, exactly as for any other IMAP client. Methods take turns
 * (a page and its message frame may ask at once).
 */
final class ImapMailbox implements AutoCloseable {

    /** The folders every account has (the store makes them with SPECIAL-USE). */
    enum Role {
        INBOX("INBOX", null), DRAFTS("Drafts", "\\Drafts"), SENT("Sent", "\\Sent"), ARCHIVE("Archive", "\\Archive"),
        JUNK("Junk", "\\Junk"), TRASH("Trash", "\\Trash");

        final String defaultName;
        final String specialUse;

        Role(String defaultName, String specialUse) {
            this.defaultName = defaultName;
            this.specialUse = specialUse;
        }
    }

    record FolderInfo(String name, Optional<Role> role, int unread, int total) {
    }

    record Summary(String folder, long uid, String from, String subject, java.util.Date date, boolean seen,
                   boolean flagged, boolean answered, Conversations.Ids ids) {
    }

    /** Messages of one conversation (Conversations), newest first. */
    record Conversation(List<Summary> messages) {
        Summary newest() {
            return messages.get(0);
        }

        boolean seen() {
            return messages.stream().allMatch(Summary::seen);
        }

        boolean flagged() {
            return messages.stream().anyMatch(Summary::flagged);
        }
    }

    /**
     * A page of a folder's list, newest first, its messages gathered into conversations: {@code total}
     * is the folder's (or the search's) count of messages.
     */
    record Page(String folder, int number, int size, int total, List<Conversation> conversations) {
        int pages() {
            return Math.max(1, (total + size - 1) / size);
        }
    }

    private final MailServers servers;
    private final String user;
    private final String password;
    private final Session mailSession;
    private IMAPStore store;
    private boolean closed;

    ImapMailbox(MailServers servers, String user, String password) {
        this.servers = servers;
        this.user = user;
        this.password = password;
        Properties p = servers.clientProperties("imap", servers.timeout());
        // Large messages are read in pieces, never whole into memory.
        p.setProperty("mail.imap.fetchsize", "65536");
        this.mailSession = Session.getInstance(p);
    }

    private synchronized IMAPStore connected() throws MessagingException {
        if (closed) {
            // Its session ended (logout) while a request still held it: no new connection for it.
            throw new jakarta.mail.AuthenticationFailedException("the session has ended");
        }
        if (store == null || !store.isConnected()) {
            store = (IMAPStore) mailSession.getStore("imap");
            store.connect(servers.imap().getHostString(), servers.imap().getPort(), user, password);
        }
        return store;
    }

    /** Every folder with its unread and total counts, the special ones first in their usual order. */
    synchronized List<FolderInfo> folders() throws MessagingException {
        List<FolderInfo> out = new ArrayList<>();
        for (Folder f : connected().getDefaultFolder().list("*")) {
            if ((f.getType() & Folder.HOLDS_MESSAGES) == 0) {
                continue;
            }
            out.add(new FolderInfo(f.getFullName(), role(f), f.getUnreadMessageCount(), f.getMessageCount()));
        }
        out.sort(Comparator.comparing((FolderInfo f) -> f.role().map(Enum::ordinal).orElse(99))
                .thenComparing(f -> f.name().toLowerCase(Locale.ROOT)));
        return out;
    }

    /** The folder that plays {@code role} in this account, if there is one: by SPECIAL-USE, else by its usual name. */
    synchronized Optional<String> existingFolderFor(Role role) throws MessagingException {
        if (role == Role.INBOX) {
            return Optional.of("INBOX");
        }
        for (Folder f : connected().getDefaultFolder().list("*")) {
            if (role(f).equals(Optional.of(role))) {
                return Optional.of(f.getFullName());
            }
        }
        return Optional.empty();
    }

    /** The folder that plays {@code role} in this account, made if there is none. */
    synchronized String folderFor(Role role) throws MessagingException {
        Optional<String> existing = existingFolderFor(role);
        if (existing.isPresent()) {
            return existing.get();
        }
        Folder made = connected().getFolder(role.defaultName);
        if (!made.exists()) {
            made.create(Folder.HOLDS_MESSAGES);
        }
        return role.defaultName;
    }

    private static Optional<Role> role(Folder f) throws MessagingException {
        if (f.getFullName().equalsIgnoreCase("INBOX")) {
            return Optional.of(Role.INBOX);
        }
        List<String> attributes = f instanceof IMAPFolder imap ? Arrays.asList(imap.getAttributes()) : List.of();
        for (Role r : Role.values()) {
            if (r.specialUse != null && attributes.stream().anyMatch(a -> a.equalsIgnoreCase(r.specialUse))) {
                return Optional.of(r);
            }
        }
        return Arrays.stream(Role.values()).filter(r -> r.defaultName.equalsIgnoreCase(f.getFullName())).findFirst();
    }

    /**
     * Page {@code number} (from 1) of {@code folder}, newest first, or of the messages whose subject,
     * sender or text contains {@code query}. Only that page's envelopes are fetched, so a folder of
     * 10,000 messages costs what a folder of 50 does.
     */
    synchronized Page page(String folder, int number, int size, Optional<String> query) throws MessagingException {
        return withFolder(folder, Folder.READ_ONLY, f -> {
            Message[] chosen;
            int total;
            int from;
            int to;
            if (query.isPresent()) {
                String q = query.get();
                SearchTerm term = new OrTerm(new SearchTerm[]{new SubjectTerm(q), new FromStringTerm(q), new BodyTerm(q)});
                Message[] found = f.search(term);
                total = found.length;
                to = Math.max(0, total - (number - 1) * size);
                from = Math.max(0, to - size);
                chosen = Arrays.copyOfRange(found, from, to);
            } else {
                total = f.getMessageCount();
                to = Math.max(0, total - (number - 1) * size);
                from = Math.max(0, to - size);
                chosen = to == 0 ? new Message[0] : f.getMessages(from + 1, to);
            }
            return new Page(folder, number, size, total, conversations(summaries(f, chosen)));
        });
    }

    /** The messages' envelopes, flags and thread ids in one FETCH, newest (last) first. */
    private static List<Summary> summaries(Folder f, Message[] chosen) throws MessagingException {
        FetchProfile profile = new FetchProfile();
        profile.add(FetchProfile.Item.ENVELOPE);
        profile.add(FetchProfile.Item.FLAGS);
        profile.add(UIDFolder.FetchProfileItem.UID);
        // Not in the envelope, and asked per message if not fetched with the rest.
        profile.add("References");
        f.fetch(chosen, profile);
        List<Summary> list = new ArrayList<>();
        for (int i = chosen.length - 1; i >= 0; i--) {
            IMAPMessage m = (IMAPMessage) chosen[i];
            String subject = Optional.ofNullable(m.getSubject()).orElse("");
            List<String> related = new ArrayList<>(Conversations.ids(m.getInReplyTo()));
            related.addAll(Conversations.ids(String.join(" ", Optional.ofNullable(m.getHeader("References")).orElse(new String[0]))));
            List<String> own = Conversations.ids(m.getMessageID());
            list.add(new Summary(f.getFullName(), ((UIDFolder) f).getUID(m), Addresses.display(m.getFrom()), subject,
                    Optional.ofNullable(m.getSentDate()).orElse(m.getReceivedDate()), m.isSet(Flags.Flag.SEEN),
                    m.isSet(Flags.Flag.FLAGGED), m.isSet(Flags.Flag.ANSWERED),
                    new Conversations.Ids(own.isEmpty() ? "" : own.get(0), related, subject)));
        }
        return list;
    }

    private static List<Conversation> conversations(List<Summary> newestFirst) {
        List<Conversation> out = new ArrayList<>();
        for (List<Integer> group : Conversations.group(newestFirst.stream().map(Summary::ids).toList())) {
            out.add(new Conversation(group.stream().map(newestFirst::get).toList()));
        }
        return out;
    }

    /** How far around a message its conversation is looked for: this many messages either side, and in Sent. */
    private static final int NEARBY = 100;

    /**
     * The conversation of {@code message} (open in its folder): the messages near it in that folder
     * and the newest in Sent that join it, newest first, itself included. Nearby only: a 10,000-message
     * folder is never read whole to show one message.
     */
    synchronized Conversation conversation(Message message) throws MessagingException {
        Folder f = message.getFolder();
        int at = message.getMessageNumber();
        List<Summary> nearby = new ArrayList<>(summaries(f,
                f.getMessages(Math.max(1, at - NEARBY), Math.min(f.getMessageCount(), at + NEARBY))));
        Optional<String> sent = existingFolderFor(Role.SENT);
        if (sent.isPresent() && !sent.get().equals(f.getFullName())) {
            nearby.addAll(withFolder(sent.get(), Folder.READ_ONLY, s -> {
                int count = s.getMessageCount();
                return count == 0 ? List.<Summary>of() : summaries(s, s.getMessages(Math.max(1, count - NEARBY + 1), count));
            }));
        }
        long uid = ((UIDFolder) f).getUID(message);
        nearby.sort(Comparator.comparing((Summary x) -> Optional.ofNullable(x.date()).orElse(new java.util.Date(0))).reversed());
        return conversations(nearby).stream()
                .filter(c -> c.messages().stream().anyMatch(x -> x.uid() == uid && x.folder().equals(f.getFullName())))
                .findFirst().orElse(new Conversation(List.of()));
    }

    /**
     * Reads message {@code uid} of {@code folder} with {@code reader}, the folder open for writing so
     * that reading the text marks it seen, as in every mail client.
     */
    synchronized <T> T read(String folder, long uid, MessageReader<T> reader) throws MessagingException {
        return withFolder(folder, Folder.READ_WRITE, f -> {
            Message m = ((UIDFolder) f).getMessageByUID(uid);
            if (m == null || m.isExpunged()) {
                throw new NoSuchMessage(folder, uid);
            }
            try {
                return reader.read(m);
            } catch (java.io.IOException e) {
                throw new MessagingException("cannot read message " + uid + " of " + folder + ": " + e.getMessage(), e);
            }
        });
    }

    interface MessageReader<T> {
        T read(Message message) throws MessagingException, java.io.IOException;
    }

    /** Moves messages (IMAP MOVE); to the folder they are in is nothing. */
    synchronized void move(String folder, List<Long> uids, String target) throws MessagingException {
        if (folder.equals(target)) {
            return;
        }
        withFolder(folder, Folder.READ_WRITE, f -> {
            Message[] ms = existing(f, uids);
            if (ms.length > 0) {
                ((IMAPFolder) f).moveMessages(ms, connected().getFolder(target));
            }
            return null;
        });
    }

    /** Deletes for good (from Trash, or Junk): flagged deleted and expunged. */
    synchronized void expunge(String folder, List<Long> uids) throws MessagingException {
        if (uids.isEmpty()) {
            return;
        }
        withFolder(folder, Folder.READ_WRITE, f -> {
            Message[] ms = existing(f, uids);
            if (ms.length == 0) {
                return null;
            }
            f.setFlags(ms, new Flags(Flags.Flag.DELETED), true);
            ((IMAPFolder) f).expunge(ms);
            return null;
        });
    }

    synchronized void flag(String folder, List<Long> uids, Flags.Flag flag, boolean set) throws MessagingException {
        withFolder(folder, Folder.READ_WRITE, f -> {
            Message[] ms = existing(f, uids);
            if (ms.length > 0) {
                f.setFlags(ms, new Flags(flag), set);
            }
            return null;
        });
    }

    /** Stores a message the webmail wrote (Sent, Drafts), with {@code flags}; returns its UID when the store says. */
    synchronized Optional<Long> append(String folder, MimeMessage message, Flags flags) throws MessagingException {
        message.setFlags(flags, true);
        return withFolder(folder, Folder.READ_WRITE, f -> {
            jakarta.mail.internet.MimeMessage[] one = {message};
            var uids = ((IMAPFolder) f).appendUIDMessages(one);
            return uids.length == 1 && uids[0] != null ? Optional.of(uids[0].uid) : Optional.<Long>empty();
        });
    }

    private static Message[] existing(Folder f, List<Long> uids) throws MessagingException {
        long[] array = uids.stream().mapToLong(Long::longValue).toArray();
        return Arrays.stream(((UIDFolder) f).getMessagesByUID(array)).filter(m -> m != null && !m.isExpunged())
                .toArray(Message[]::new);
    }

    private interface FolderWork<T> {
        T run(Folder f) throws MessagingException;
    }

    private <T> T withFolder(String name, int mode, FolderWork<T> work) throws MessagingException {
        Folder f = connected().getFolder(name);
        if (!f.exists()) {
            throw new NoSuchFolder(name);
        }
        f.open(mode);
        try {
            return work.run(f);
        } finally {
            try {
                if (f.isOpen()) {
                    f.close(false);
                }
            } catch (MessagingException e) {
                // The work is done (or failed on its own); a connection that breaks at CLOSE reconnects next time.
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (store != null) {
            try {
                store.close();
            } catch (MessagingException ignored) {
                // The connection is gone either way.
            }
            store = null;
        }
    }

    /** The folder named in a request does not exist (or the owner may not see it). */
    static final class NoSuchFolder extends MessagingException {
        NoSuchFolder(String name) {
            super("no folder " + name);
        }
    }

    /** The message named in a request is not (or no longer) in that folder. */
    static final class NoSuchMessage extends MessagingException {
        NoSuchMessage(String folder, long uid) {
            super("no message " + uid + " in " + folder);
        }
    }
}
