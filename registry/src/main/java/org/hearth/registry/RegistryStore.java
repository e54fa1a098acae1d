package org.hearth.registry;

import org.flywaydb.core.Flyway;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The registry's state: boxes, their names and addresses, in embedded Derby on the registry's disk,
 * its schema brought up to date by Flyway's migrations (db/migration) at every start. Every change
 * is one transaction.
 */
final class RegistryStore implements AutoCloseable {

    record Box(String id, String publicKey, long lastSigned) {
    }

    private final String url;

    RegistryStore(Path directory) {
        this.url = "jdbc:derby:" + directory.resolve("registry") + ";create=true";
        Flyway.configure().dataSource(url, "", "").locations("classpath:db/migration").load().migrate();
    }

    /** A connection for reading: each statement its own transaction. */
    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
    private <T> T transaction(Work<T> work) throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    boolean pairingUsed(String channel) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(
                "SELECT 1 FROM used_pairings WHERE channel = ?")) {
            s.setString(1, channel);
            try (ResultSet r = s.executeQuery()) {
                return r.next();
            }
        }
    }

    /** Records that {@code channel} paired its box; false if it had been recorded already. */
    boolean usePairing(String channel, Instant now) throws SQLException {
        return transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO used_pairings (channel, used_at) VALUES (?, ?)")) {
                s.setString(1, channel);
                s.setTimestamp(2, Timestamp.from(now));
                s.executeUpdate();
                return true;
            } catch (SQLException e) {
                if ("23505".equals(e.getSQLState())) {
                    return false;
                }
                throw e;
            }
        });
    }

    Optional<Box> box(String id) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(
                "SELECT id, public_key, last_signed FROM boxes WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(new Box(r.getString(1), r.getString(2), r.getLong(3))) : Optional.empty();
            }
        }
    }

    Optional<String> owner(String name) throws SQLException {
        try (Connection c = connect()) {
            return owner(c, name);
        }
    }

    Optional<String> nameOf(String boxId) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement("SELECT name FROM names WHERE box_id = ?")) {
            s.setString(1, boxId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
            }
        }
    }

    /** Why the claim failed, if it did: the name taken, or the box holding another already. */
    enum Claim { CLAIMED, NAME_TAKEN, BOX_HAS_A_NAME }

    /** Records a new box (if new) and gives it {@code name}, in one transaction. */
    synchronized Claim claim(String name, String boxId, String publicKey, long signed, Instant now) throws SQLException {
        return transaction(c -> {
            Optional<String> owner = owner(c, name);
            if (owner.isPresent()) {
                return owner.get().equals(boxId) ? Claim.CLAIMED : Claim.NAME_TAKEN;
            }
            try (PreparedStatement s = c.prepareStatement("SELECT name FROM names WHERE box_id = ?")) {
                s.setString(1, boxId);
                try (ResultSet r = s.executeQuery()) {
                    if (r.next()) {
                        return Claim.BOX_HAS_A_NAME;
                    }
                }
            }
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO boxes (id, public_key, created, last_signed) SELECT ?, ?, ?, ? FROM SYSIBM.SYSDUMMY1 "
                            + "WHERE NOT EXISTS (SELECT 1 FROM boxes WHERE id = ?)")) {
                s.setString(1, boxId);
                s.setString(2, publicKey);
                s.setTimestamp(3, Timestamp.from(now));
                s.setLong(4, signed);
                s.setString(5, boxId);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO names (name, box_id, claimed) VALUES (?, ?, ?)")) {
                s.setString(1, name);
                s.setString(2, boxId);
                s.setTimestamp(3, Timestamp.from(now));
                s.executeUpdate();
            }
            return Claim.CLAIMED;
        });
    }

    private static Optional<String> owner(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT box_id FROM names WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
            }
        }
    }

    /**
     * Accepts a request the box signed at {@code signed} (milliseconds) only if it is newer than any
     * before: the box's clock moves on, and a recorded request can never be played again.
     */
    synchronized boolean acceptSigned(String boxId, long signed) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(
                "UPDATE boxes SET last_signed = ? WHERE id = ? AND last_signed < ?")) {
            s.setLong(1, signed);
            s.setString(2, boxId);
            s.setLong(3, signed);
            return s.executeUpdate() == 1;
        }
    }

    /** Makes the box's recorded addresses exactly these. */
    synchronized void addresses(String boxId, List<String> addresses, Instant now) throws SQLException {
        transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM addresses WHERE box_id = ?")) {
                s.setString(1, boxId);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO addresses (box_id, address, updated) VALUES (?, ?, ?)")) {
                for (String a : addresses) {
                    s.setString(1, boxId);
                    s.setString(2, a);
                    s.setTimestamp(3, Timestamp.from(now));
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    List<String> addresses(String boxId) throws SQLException {
        return strings("SELECT address FROM addresses WHERE box_id = ? ORDER BY address", boxId);
    }

    /** The one column of what {@code select} finds for the box. */
    private List<String> strings(String select, String boxId) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(select)) {
            s.setString(1, boxId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
        }
        return out;
    }

    /** The hosts under the box's name that carry its addresses, as last published. */
    List<String> addressHosts(String boxId) throws SQLException {
        return strings("SELECT host FROM address_hosts WHERE box_id = ? ORDER BY host", boxId);
    }

    /** Makes the box's recorded address hosts exactly these. */
    synchronized void addressHosts(String boxId, java.util.Collection<String> hosts) throws SQLException {
        transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM address_hosts WHERE box_id = ?")) {
                s.setString(1, boxId);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO address_hosts (box_id, host) VALUES (?, ?)")) {
                for (String h : hosts) {
                    s.setString(1, boxId);
                    s.setString(2, h);
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    /** A record a box publishes: its owner relative to the box's name ("@" for the name itself). */
    record BoxRecord(String owner, String type, String data) {
    }

    List<BoxRecord> records(String boxId) throws SQLException {
        List<BoxRecord> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(
                "SELECT owner, type, data FROM records WHERE box_id = ? ORDER BY owner, type, data")) {
            s.setString(1, boxId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new BoxRecord(r.getString(1), r.getString(2), r.getString(3)));
                }
            }
        }
        return out;
    }

    /** Makes the box's recorded records exactly these. */
    synchronized void records(String boxId, List<BoxRecord> records) throws SQLException {
        transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM records WHERE box_id = ?")) {
                s.setString(1, boxId);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO records (box_id, owner, type, data) VALUES (?, ?, ?, ?)")) {
                for (BoxRecord r : records) {
                    s.setString(1, boxId);
                    s.setString(2, r.owner());
                    s.setString(3, r.type());
                    s.setString(4, r.data());
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void close() {
        try {
            DriverManager.getConnection(url.replace(";create=true", ";shutdown=true"));
        } catch (SQLException expected) {
            // Derby answers a shutdown with an exception (SQLState 08006) when it succeeded.
        }
    }
}
