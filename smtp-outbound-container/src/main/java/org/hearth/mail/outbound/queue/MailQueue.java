package org.hearth.mail.outbound.queue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The outbound queue, on the container's encrypted volume. Like Postfix's queue file, a message is
 * one file, {@code messages/ID}: a first line holding its {@link Envelope} as it was committed, then
 * its bytes (never changed). It is written under {@code incoming/}, forced to disk and renamed into
 * place; once {@code messages/} is forced too, {@link #enqueue} returns and submission may answer
 * 250: two forced writes per message. What later attempts change is kept beside it in
 * {@code envelopes/ID.json} (temporary file, force, rename), which supersedes the first line.
 * A message whose recipients are all done leaves the queue by its file's removal (forced), its
 * envelope file after. A crash leaves at most files in {@code incoming/} (never acknowledged: the
 * sender still has that mail) or an envelope file whose message has left; {@link #open} removes
 * both. One process holds a queue at a time (a lock file): a second one would sweep away the first
 * one's half-written files.
 */
public final class MailQueue implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** What {@link #enqueue} makes; anything else is no queue id (and never a path). */
    private static final Pattern ID = Pattern.compile("\\d{8}T\\d{6}-[0-9a-f]{12}");
    /** An address as the queue accepts it: no spaces, brackets or control characters, which would break SMTP lines and headers. */
    private static final Pattern ADDRESS = Pattern.compile("[^\\s<>\\p{Cntrl}]+@[^\\s<>@\\p{Cntrl}]+");
    /** What a message file's first line starts with: the envelope it was committed with follows. */
    private static final byte[] FORMAT = "hearth-queue-1 ".getBytes(StandardCharsets.US_ASCII);
    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path incoming;
    private final Path messages;
    private final Path envelopes;
    private FileChannel lockFile;
    private FileLock lock;
    private final RetrySchedule schedule;
    /** Messages a delivery attempt holds right now; {@link #due} does not hand them out twice. */
    private final Set<String> inFlight = new HashSet<>();
    /**
     * Messages the owner asked to retry while an attempt held them: that attempt's outcome must not
     * push the retry back by a backoff (the owner may just have fixed what it failed on).
     */
    private final Set<String> retryAfterAttempt = new HashSet<>();
    /** Told when a message becomes due at once; see {@link #whenDueNow}. */
    private volatile Runnable dueNow = () -> { };

    private MailQueue(Path root, RetrySchedule schedule) {
        this.incoming = root.resolve("incoming");
        this.messages = root.resolve("messages");
        this.envelopes = root.resolve("envelopes");
        this.schedule = schedule;
    }

    /**
     * Opens the queue under {@code root}, removing what a crash left half-written (never
     * acknowledged); refuses when another process (or instance) holds it.
     */
    public static MailQueue open(Path root, RetrySchedule schedule) throws IOException {
        MailQueue q = new MailQueue(root, schedule);
        for (Path dir : List.of(q.incoming, q.messages, q.envelopes)) {
            Files.createDirectories(dir);
        }
        q.lockFile = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            q.lock = q.lockFile.tryLock();
        } catch (OverlappingFileLockException e) {
            q.lock = null;
        }
        if (q.lock == null) {
            q.lockFile.close();
            throw new IOException("the queue in " + root + " is in use by another process");
        }
        try (Stream<Path> leftovers = Files.list(q.incoming)) {
            for (Path p : leftovers.toList()) {
                Files.delete(p);
            }
        }
        // A message file with no envelope at all: written by no commit of this format.
        for (String id : q.ids()) {
            if (q.read(id).isEmpty()) {
                Files.delete(q.messages.resolve(id));
            }
        }
        // An envelope file whose message has left: a removal cut short after its commit.
        try (Stream<Path> files = Files.list(q.envelopes)) {
            for (Path p : files.toList()) {
                if (!Files.exists(q.messages.resolve(p.getFileName().toString().replaceFirst("\\.json$", "")))) {
                    Files.delete(p);
                }
            }
        }
        return q;
    }

    @Override
    public void close() throws IOException {
        lock.release();
        lockFile.close();
    }

    /**
     * Tells {@code listener} whenever a message becomes due at once (committed, or retried by the
     * owner), so delivery can start then rather than at its next tick. It may be called while the
     * queue is locked (a notice committed as an outcome is recorded): it must not block.
     */
    public void whenDueNow(Runnable listener) {
        this.dueNow = listener;
    }

    /**
     * Commits a message for delivery; returns its id once it is durably on disk.
     *
     * @param sender the reverse path, empty for a bounce
     */
    public String enqueue(String sender, List<String> recipients, InputStream message, Instant now) throws IOException {
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a message needs at least one recipient");
        }
        if (!sender.isEmpty() && !ADDRESS.matcher(sender).matches()) {
            throw new IllegalArgumentException("not a sender address the queue can carry: " + printable(sender));
        }
        for (String r : recipients) {
            if (!ADDRESS.matcher(r).matches()) {
                throw new IllegalArgumentException("not a recipient address the queue can carry: " + printable(r));
            }
        }
        String id = ID_TIME.format(now) + "-" + HexFormat.of().formatHex(randomBytes());
        Envelope envelope = new Envelope(id, sender, now, 0, now, false, recipients.stream()
                .map(r -> new Envelope.Recipient(r, Envelope.State.PENDING, "")).toList());
        Path staged = incoming.resolve(id);
        try (FileChannel ch = FileChannel.open(staged, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                OWNER_ONLY)) {
            // Compact JSON has no line break: the first line is the envelope, the rest the message.
            ByteBuffer first = ByteBuffer.wrap(envelopeLine(envelope));
            while (first.hasRemaining()) {
                ch.write(first);
            }
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = message.read(buf)) > 0; ) {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            ch.force(true);
        }
        Files.move(staged, messages.resolve(id), StandardCopyOption.ATOMIC_MOVE);
        force(messages);
        dueNow.run();
        return id;
    }

    private static byte[] envelopeLine(Envelope e) throws IOException {
        byte[] json = JSON.writeValueAsBytes(e);
        byte[] line = new byte[FORMAT.length + json.length + 1];
        System.arraycopy(FORMAT, 0, line, 0, FORMAT.length);
        System.arraycopy(json, 0, line, FORMAT.length, json.length);
        line[line.length - 1] = '\n';
        return line;
    }

    /** The message file's first line (its committed envelope), or empty for a file that has none. */
    private Optional<byte[]> firstLine(String id) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(messages.resolve(id)))) {
            byte[] start = in.readNBytes(FORMAT.length);
            if (!Arrays.equals(start, FORMAT)) {
                return Optional.empty();
            }
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != '\n'; ) {
                if (b < 0) {
                    throw new IOException("message " + id + " ends inside its envelope line");
                }
                line.write(b);
            }
            return Optional.of(line.toByteArray());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Messages whose next attempt is due, oldest first; each is held until {@link #release}d or recorded. */
    public synchronized List<Envelope> due(Instant now) throws IOException {
        List<Envelope> due = new ArrayList<>();
        for (String id : ids()) {
            if (inFlight.contains(id)) {
                continue;
            }
            Optional<Envelope> e = read(id);
            if (e.isPresent() && !e.get().nextAttempt().isAfter(now) && !e.get().pending().isEmpty()) {
                due.add(e.get());
            }
        }
        due.sort(Comparator.comparing(Envelope::created));
        due.forEach(e -> inFlight.add(e.id()));
        return due;
    }

    /** The message's size in bytes (for SIZE=). */
    public long size(String id) throws IOException {
        return Files.size(messages.resolve(checkId(id))) - headerLength(id);
    }

    /** The message's bytes, as submitted (signed). */
    public InputStream message(String id) throws IOException {
        InputStream in = Files.newInputStream(messages.resolve(checkId(id)));
        in.skipNBytes(headerLength(id));
        return in;
    }

    private long headerLength(String id) throws IOException {
        return firstLine(id).map(line -> (long) FORMAT.length + line.length + 1).orElse(0L);
    }

    /** An attempt's outcome for one recipient: delivered (2xx), failed for good (5xx) or deferred (4xx, no answer). */
    public record Outcome(Envelope.State state, String reply) {
        public static Outcome delivered(String reply) {
            return new Outcome(Envelope.State.DELIVERED, reply);
        }

        public static Outcome failed(String reply) {
            return new Outcome(Envelope.State.FAILED, reply);
        }

        public static Outcome deferred(String reply) {
            return new Outcome(Envelope.State.PENDING, reply);
        }
    }

    /**
     * What an attempt changed, for the notices the sender is owed.
     *
     * @param failedNow    recipients that failed for good in this attempt (bounced: at once on 5xx,
     *                     or at expiry)
     * @param delayWarning whether the sender should now be told the rest is late (once per message)
     */
    public record Recorded(Envelope envelope, List<Envelope.Recipient> failedNow, boolean delayWarning) {
    }

    /** Work that must be durable before an attempt's outcome is (the notices the sender is owed). */
    public interface BeforeCommit {
        void run(Recorded recorded) throws IOException;
    }

    /** {@link #record(String, Map, Instant, BeforeCommit)} with nothing to do first. */
    public Recorded record(String id, Map<String, Outcome> outcomes, Instant now) throws IOException {
        return record(id, outcomes, now, r -> { });
    }

    /**
     * Records an attempt (recipients not in {@code outcomes} count as deferred with their last reply)
     * and releases the message: the next attempt is scheduled, or the message expires, or — every
     * recipient done — it leaves the queue. {@code beforeCommit} runs first with what will be
     * recorded: if it fails, nothing is, and the message is tried again (a notice may then be sent
     * twice, never lost).
     */
    public synchronized Recorded record(String id, Map<String, Outcome> outcomes, Instant now, BeforeCommit beforeCommit)
            throws IOException {
        try {
            Envelope before = read(id).orElseThrow(() -> new NoSuchFileException("no queued message " + id));
            boolean expired = schedule.expired(before.created(), now);
            List<Envelope.Recipient> updated = new ArrayList<>();
            List<Envelope.Recipient> failedNow = new ArrayList<>();
            for (Envelope.Recipient r : before.recipients()) {
                if (r.state() != Envelope.State.PENDING) {
                    updated.add(r);
                    continue;
                }
                Outcome o = outcomes.getOrDefault(r.address(), new Outcome(Envelope.State.PENDING, r.lastReply()));
                Envelope.Recipient next = new Envelope.Recipient(r.address(), o.state(), o.reply());
                if (next.state() == Envelope.State.PENDING && expired) {
                    next = new Envelope.Recipient(r.address(), Envelope.State.FAILED,
                            "gave up after " + schedule.lifetime().toDays() + " days; last reply: " + o.reply());
                }
                if (next.state() == Envelope.State.FAILED) {
                    failedNow.add(next);
                }
                updated.add(next);
            }
            int attempts = before.attempts() + 1;
            boolean stillPending = updated.stream().anyMatch(r -> r.state() == Envelope.State.PENDING);
            boolean warn = stillPending && !before.delayNotified() && schedule.delayWarningDue(before.created(), now);
            boolean retryAsked = retryAfterAttempt.remove(id);
            Envelope after = new Envelope(id, before.sender(), before.created(), attempts,
                    retryAsked ? now : schedule.nextAttempt(attempts, now), before.delayNotified() || warn, List.copyOf(updated));
            Recorded recorded = new Recorded(after, List.copyOf(failedNow), warn);
            beforeCommit.run(recorded);
            if (stillPending) {
                save(after);
                if (retryAsked) {
                    dueNow.run();
                }
            } else {
                remove(id);
            }
            return recorded;
        } finally {
            inFlight.remove(id);
            retryAfterAttempt.remove(id);
        }
    }

    /** Gives a message back untried (the attempt never started): it stays due. */
    public synchronized void release(String id) {
        inFlight.remove(id);
        if (retryAfterAttempt.remove(id)) {
            dueNow.run();
        }
    }

    /** Every queued message, oldest first (hearth mail queue). */
    public synchronized List<Envelope> list() throws IOException {
        List<Envelope> all = new ArrayList<>();
        for (String id : ids()) {
            read(id).ifPresent(all::add);
        }
        all.sort(Comparator.comparing(Envelope::created));
        return all;
    }

    /**
     * Makes a deferred message due now; false when there is no such message. One an attempt holds
     * is due again as soon as that attempt ends, unless it delivered everything or the message
     * expired with it.
     */
    public synchronized boolean retryNow(String id, Instant now) throws IOException {
        Optional<Envelope> e = read(id);
        if (e.isEmpty()) {
            return false;
        }
        if (inFlight.contains(id)) {
            retryAfterAttempt.add(id);
            return true;
        }
        Envelope d = e.get();
        save(new Envelope(d.id(), d.sender(), d.created(), d.attempts(), now, d.delayNotified(), d.recipients()));
        dueNow.run();
        return true;
    }

    /** Removes a message without delivering it (the owner's decision); false when there is no such message. */
    public synchronized boolean delete(String id) throws IOException {
        if (inFlight.contains(id) || read(id).isEmpty()) {
            return false;
        }
        remove(id);
        return true;
    }

    private List<String> ids() throws IOException {
        try (Stream<Path> files = Files.list(messages)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> ID.matcher(n).matches()).sorted().toList();
        }
    }

    private static String checkId(String id) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not a queue id: " + printable(id));
        }
        return id;
    }

    /** The message's envelope: the newest attempt's, else the one it was committed with. */
    private Optional<Envelope> read(String id) throws IOException {
        if (!ID.matcher(id).matches() || !Files.exists(messages.resolve(id))) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(Files.readAllBytes(envelopeFile(id)), Envelope.class));
        } catch (NoSuchFileException e) {
            Optional<byte[]> committed = firstLine(id);
            return committed.isEmpty() ? Optional.empty() : Optional.of(JSON.readValue(committed.get(), Envelope.class));
        }
    }

    private void save(Envelope e) throws IOException {
        Path staged = writeForced(incoming.resolve(e.id() + ".json"), JSON.writeValueAsBytes(e));
        Files.move(staged, envelopeFile(e.id()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        force(envelopes);
    }

    /** The message file first: once it is gone (and that is on disk) the message is done; its envelope file is litter. */
    private void remove(String id) throws IOException {
        Files.deleteIfExists(messages.resolve(id));
        force(messages);
        Files.deleteIfExists(envelopeFile(id));
    }

    private Path envelopeFile(String id) {
        return envelopes.resolve(id + ".json");
    }

    private static Path writeForced(Path file, byte[] content) throws IOException {
        Files.deleteIfExists(file);
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                OWNER_ONLY)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        return file;
    }

    private static void force(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
