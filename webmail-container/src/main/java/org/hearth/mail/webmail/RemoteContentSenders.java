package org.hearth.mail.webmail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The senders whose remote images an owner chose to always see, one small file per owner on the
 * webmail's encrypted volume (named by a hash of the owner's address; one sender per line). Any
 * sender not listed has its remote loads held back: opening a message tells no tracker it was read.
 */
final class RemoteContentSenders {

    private final Path folder;

    RemoteContentSenders(Path folder) {
        this.folder = folder;
    }

    synchronized boolean allows(String owner, String sender) {
        return read(owner).contains(normal(sender));
    }

    synchronized void allow(String owner, String sender) throws IOException {
        Set<String> senders = read(owner);
        if (senders.add(normal(sender))) {
            Files.createDirectories(folder);
            Path tmp = Files.createTempFile(folder, ".senders", ".tmp");
            Files.writeString(tmp, String.join("\n", senders) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file(owner), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private Set<String> read(String owner) {
        Set<String> out = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(file(owner), StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                }
            }
        } catch (IOException e) {
            // None chosen yet (or unreadable: then nothing is allowed, the private default).
        }
        return out;
    }

    private Path file(String owner) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(normal(owner).getBytes(StandardCharsets.UTF_8));
            return folder.resolve(HexFormat.of().formatHex(digest, 0, 16) + ".senders");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String normal(String address) {
        return address.strip().toLowerCase(Locale.ROOT);
    }
}
