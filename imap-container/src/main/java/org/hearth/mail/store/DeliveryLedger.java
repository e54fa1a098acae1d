package org.hearth.mail.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Which messages were delivered to whom in the last 48 hours, so that a sender retrying after a
 * lost 250 gets 250 again instead of a second copy. A record is written as an intent before the
 * append (key, user, folder, the folder's next UID) and marked done with the UID after it; a
 * pending intent therefore means "maybe stored, at that UID or later", never "stored".
 * <p>
 * The records are a table in the mailboxes' own embedded Derby, through a second JDBC connection
 * in this JVM: same encrypted volume, same fsync-on-commit durability, and no second file format
 * to make crash-safe. They are not in the mailbox's transaction (OpenJPA owns that), which is why
 * the intent/done protocol exists.
 */
final class DeliveryLedger implements AutoCloseable {

    /** Retries later than this are delivered again (Dovecot and Gmail keep about as long). */
    static final Duration WINDOW = Duration.ofHours(48);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);

    /** A record: {@code uid} is empty while the delivery is only intended. */
    record Entry(String user, String folder, long nextUid, Optional<Long> uid) {
    }

    private final Connection db;
    private final Clock clock;
    private final Set<String> busyKeys = new HashSet<>();
    private long prunedAt;

    DeliveryLedger(String jdbcUrl, Clock clock) throws SQLException {
        this.clock = clock;
        db = DriverManager.getConnection(jdbcUrl);
        db.setAutoCommit(true);
        createIfMissing(db, "CREATE TABLE HEARTH_DELIVERY (DELIVERY_KEY CHAR(64) NOT NULL PRIMARY KEY,"
                + " USER_NAME VARCHAR(512) NOT NULL, FOLDER VARCHAR(512) NOT NULL, NEXT_UID BIGINT NOT NULL,"
                + " UID BIGINT, RECORDED_AT BIGINT NOT NULL)");
        createIfMissing(db, "CREATE INDEX HEARTH_DELIVERY_AT ON HEARTH_DELIVERY (RECORDED_AT)");
    }

    /** Runs {@code work} while no other thread holds {@code key}: a retry waits for the attempt still running. */
    <T, E extends Exception> T exclusively(String key, Work<T, E> work) throws E {
        synchronized (busyKeys) {
            while (!busyKeys.add(key)) {
                try {
                    busyKeys.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for an earlier attempt of the same delivery", e);
                }
            }
        }
        try {
            return work.run();
        } finally {
            synchronized (busyKeys) {
                busyKeys.remove(key);
                busyKeys.notifyAll();
            }
        }
    }

    interface Work<T, E extends Exception> {
        T run() throws E;
    }

    /** The record for {@code key} made within the window, if any. */
    synchronized Optional<Entry> find(String key) throws SQLException {
        pruneNowAndThen();
        try (PreparedStatement q = db.prepareStatement("SELECT USER_NAME, FOLDER, NEXT_UID, UID FROM HEARTH_DELIVERY"
                + " WHERE DELIVERY_KEY = ? AND RECORDED_AT > ?")) {
            q.setString(1, key);
            q.setLong(2, clock.millis() - WINDOW.toMillis());
            try (ResultSet r = q.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                long uid = r.getLong(4);
                Optional<Long> stored = r.wasNull() ? Optional.empty() : Optional.of(uid);
                return Optional.of(new Entry(r.getString(1), r.getString(2), r.getLong(3), stored));
            }
        }
    }

    /** Durably records that {@code key} is about to be appended to the folder, replacing any older record. */
    synchronized void intend(String key, String user, String folder, long nextUid) throws SQLException {
        try (PreparedStatement delete = db.prepareStatement("DELETE FROM HEARTH_DELIVERY WHERE DELIVERY_KEY = ?");
             PreparedStatement insert = db.prepareStatement("INSERT INTO HEARTH_DELIVERY"
                     + " (DELIVERY_KEY, USER_NAME, FOLDER, NEXT_UID, UID, RECORDED_AT) VALUES (?, ?, ?, ?, NULL, ?)")) {
            inTransaction(db, () -> {
                delete.setString(1, key);
                delete.executeUpdate();
                insert.setString(1, key);
                insert.setString(2, user);
                insert.setString(3, folder);
                insert.setLong(4, nextUid);
                insert.setLong(5, clock.millis());
                insert.executeUpdate();
            });
        }
    }

    /** Records that {@code key} was appended and committed as {@code uid}. */
    synchronized void done(String key, long uid) throws SQLException {
        try (PreparedStatement u = db.prepareStatement("UPDATE HEARTH_DELIVERY SET UID = ? WHERE DELIVERY_KEY = ?")) {
            u.setLong(1, uid);
            u.setString(2, key);
            u.executeUpdate();
        }
    }

    private void pruneNowAndThen() throws SQLException {
        long now = clock.millis();
        if (now - prunedAt < PRUNE_EVERY.toMillis()) {
            return;
        }
        try (PreparedStatement d = db.prepareStatement("DELETE FROM HEARTH_DELIVERY WHERE RECORDED_AT <= ?")) {
            d.setLong(1, now - WINDOW.toMillis());
            d.executeUpdate();
        }
        prunedAt = now;
    }

    /** Statements that commit together or not at all. */
    interface SqlWork {
        void run() throws SQLException;
    }

    /** Runs {@code work} in one transaction on {@code db}, which is left in auto-commit as it was found. */
    static void inTransaction(Connection db, SqlWork work) throws SQLException {
        db.setAutoCommit(false);
        try {
            work.run();
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(true);
        }
    }

    /** Runs {@code ddl} unless what it creates exists already (Derby has no IF NOT EXISTS). */
    static void createIfMissing(Connection db, String ddl) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute(ddl);
        } catch (SQLException e) {
            if (!"X0Y32".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        db.close();
    }
}
