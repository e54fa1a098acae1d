package org.hearth.mail.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.hearth.mail.common.Smtputf8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The mail app's domains, users (Argon2id hashes) and aliases, in {@code accounts.json} on the
 * app's volume. The servers re-read it when it changes, so {@code hearth mail user add} takes
 * effect without a restart; {@link MailAdmin} changes it under a file lock.
 */
final class Accounts {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The file's content. Addresses and domains are lower case. */
    record Data(TreeSet<String> domains, TreeMap<String, String> users, TreeMap<String, String> aliases) {
        Data {
            domains = domains == null ? new TreeSet<>() : new TreeSet<>(domains);
            users = users == null ? new TreeMap<>() : new TreeMap<>(users);
            aliases = aliases == null ? new TreeMap<>() : new TreeMap<>(aliases);
        }

        static Data empty() {
            return new Data(null, null, null);
        }
    }

    /** Where mail for an address goes, or why it is refused. */
    sealed interface Resolution {
        record Mailbox(String user) implements Resolution {
        }

        /** The domain is not ours: relaying is denied. */
        record NotLocal() implements Resolution {
        }

        /** Our domain, but no such user or alias. */
        record Unknown() implements Resolution {
        }
    }

    private final Path file;
    private final VerifiedLogins verified;
    private volatile Data data = Data.empty();
    private volatile FileTime loadedAt = FileTime.fromMillis(0);

    Accounts(Path file) {
        this(file, new VerifiedLogins(PasswordHash::verify, InstantSource.system()));
    }

    Accounts(Path file, VerifiedLogins verified) {
        this.file = file;
        this.verified = verified;
    }

    /** The current content, re-read if the file changed since the last look. */
    Data current() {
        try {
            if (!Files.isRegularFile(file)) {
                return Data.empty();
            }
            FileTime modified = Files.getLastModifiedTime(file);
            if (!modified.equals(loadedAt)) {
                synchronized (this) {
                    data = JSON.readValue(file.toFile(), Data.class);
                    loadedAt = modified;
                }
            }
            return data;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    Resolution resolve(String address) {
        String a = Smtputf8.comparable(address);
        int at = a.lastIndexOf('@');
        Data d = current();
        if (at < 0 || !d.domains().contains(a.substring(at + 1))) {
            return new Resolution.NotLocal();
        }
        if (d.users().containsKey(a)) {
            return new Resolution.Mailbox(a);
        }
        String target = d.aliases().get(a);
        if (target != null && d.users().containsKey(target)) {
            return new Resolution.Mailbox(target);
        }
        return new Resolution.Unknown();
    }

    boolean authenticate(String user, char[] password) {
        String u = user.toLowerCase(Locale.ROOT);
        String stored = current().users().get(u);
        return stored != null && verified.check(u, password, stored);
    }

    List<String> users() {
        return List.copyOf(current().users().keySet());
    }

    /** Applies {@code change} to the file under an exclusive lock; the change sees the latest content. */
    Data update(UnaryOperator<Data> change) {
        Path lock = file.resolveSibling(file.getFileName() + ".lock");
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = channel.lock()) {
            Data before = Files.isRegularFile(file) ? JSON.readValue(file.toFile(), Data.class) : Data.empty();
            Data after = change.apply(before);
            Path tmp = Files.createTempFile(file.getParent(), ".accounts", ".tmp");
            JSON.writeValue(tmp.toFile(), after);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return after;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file, e);
        }
    }
}
