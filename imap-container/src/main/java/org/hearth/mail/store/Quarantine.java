package org.hearth.mail.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Where a message goes that makes delivery fail the same way again and again (a "poison"
 * message, e.g. one that trips a bug in the store). Failures are counted per recipient and body
 * digest in the mailboxes' Derby, so a restarted store keeps counting; at the threshold the
 * message is written to {@code quarantine/} on the volume beside a JSON description, and only
 * then is the sender told 250. Quarantine rather than a 5xx bounce: the owner keeps the mail,
 * and a failure wrongly taken for poison costs nothing but a detour.
 */
final class Quarantine implements AutoCloseable {

    /** Consecutive same-class failures after which a message is quarantined. */
    static final int THRESHOLD = 5;
    /** Longer than a sender's queue lifetime (commonly 5 days): a count older than that is stale. */
    static final Duration FORGET_AFTER = Duration.ofDays(7);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The description beside each quarantined message, {@code quarantine/<id>.json}; {@code message} names the .eml. */
    record Item(int version, String id, String recipient, String user, String messageId, long bytes, String bodySha256,
                String errorClass, int failures, String firstFailure, String lastFailure, String quarantinedAt,
                String message) {
    }

    /** How a failure was counted: the running count, and the item if this failure quarantined the message. */
    record Outcome(int failures, Optional<Item> quarantined) {
    }

    private final Connection db;
    private final Path folder;
    private final Clock clock;
    private final int threshold;

    Quarantine(String jdbcUrl, Path folder, Clock clock, int threshold) throws SQLException {
        this.folder = folder;
        this.clock = clock;
        this.threshold = threshold;
        db = DriverManager.getConnection(jdbcUrl);
        db.setAutoCommit(true);
        DeliveryLedger.createIfMissing(db, "CREATE TABLE HEARTH_DELIVERY_FAILURE (FAILURE_KEY CHAR(64) NOT NULL PRIMARY KEY,"
                + " ERROR_CLASS VARCHAR(512) NOT NULL, FAILURES INT NOT NULL, FIRST_AT BIGINT NOT NULL,"
                + " LAST_AT BIGINT NOT NULL)");
    }

    /**
     * Counts a failed delivery of {@code message} to {@code recipient}; a different error class than
     * last time starts the count again. At the threshold the message is stored here, durably,
     * before this returns.
     */
    synchronized Outcome failed(String recipient, String user, MessageIdentity identity, byte[] message, Throwable error)
            throws SQLException, IOException {
        String key = identity.failureKey(recipient);
        String errorClass = rootCause(error).getClass().getName();
        long now = clock.millis();
        int failures = 1;
        long firstAt = now;
        try (PreparedStatement q = db.prepareStatement(
                "SELECT ERROR_CLASS, FAILURES, FIRST_AT, LAST_AT FROM HEARTH_DELIVERY_FAILURE WHERE FAILURE_KEY = ?")) {
            q.setString(1, key);
            try (ResultSet r = q.executeQuery()) {
                if (r.next() && r.getString(1).equals(errorClass) && r.getLong(4) > now - FORGET_AFTER.toMillis()) {
                    failures = r.getInt(2) + 1;
                    firstAt = r.getLong(3);
                }
            }
        }
        int count = failures;
        long first = firstAt;
        try (PreparedStatement delete = db.prepareStatement("DELETE FROM HEARTH_DELIVERY_FAILURE WHERE FAILURE_KEY = ? OR LAST_AT <= ?");
             PreparedStatement insert = db.prepareStatement("INSERT INTO HEARTH_DELIVERY_FAILURE"
                     + " (FAILURE_KEY, ERROR_CLASS, FAILURES, FIRST_AT, LAST_AT) VALUES (?, ?, ?, ?, ?)")) {
            DeliveryLedger.inTransaction(db, () -> {
                delete.setString(1, key);
                delete.setLong(2, now - FORGET_AFTER.toMillis());
                delete.executeUpdate();
                insert.setString(1, key);
                insert.setString(2, errorClass);
                insert.setInt(3, count);
                insert.setLong(4, first);
                insert.setLong(5, now);
                insert.executeUpdate();
            });
        }
        if (failures < threshold) {
            return new Outcome(failures, Optional.empty());
        }
        String id = key.substring(0, 32);
        Item item = new Item(1, id, recipient, user, identity.messageId().orElse(null), message.length,
                identity.bodySha256(), errorClass, failures, Instant.ofEpochMilli(firstAt).toString(),
                Instant.ofEpochMilli(now).toString(), clock.instant().toString(), id + ".eml");
        Files.createDirectories(folder);
        // The message first, its description last: a .json names only a message that is fully on disk.
        writeDurably(folder.resolve(id + ".eml"), message);
        writeDurably(folder.resolve(id + ".json"), JSON.writeValueAsBytes(item));
        return new Outcome(failures, Optional.of(item));
    }

    /** Forgets earlier failures of a message that has now been delivered. */
    synchronized void delivered(String recipient, MessageIdentity identity) throws SQLException {
        try (PreparedStatement d = db.prepareStatement("DELETE FROM HEARTH_DELIVERY_FAILURE WHERE FAILURE_KEY = ?")) {
            d.setString(1, identity.failureKey(recipient));
            d.executeUpdate();
        }
    }

    private void writeDurably(Path target, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(folder, "." + target.getFileName(), ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    static Throwable rootCause(Throwable e) {
        Throwable r = e;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }

    @Override
    public synchronized void close() throws SQLException {
        db.close();
    }
}
