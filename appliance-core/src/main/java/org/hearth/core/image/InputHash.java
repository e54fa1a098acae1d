package org.hearth.core.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * SHA-256 over everything an image is built from. Each input is framed with its kind and
 * length, so "ab"+"c" and "a"+"bc" hash differently.
 */
final class InputHash {

    private final MessageDigest digest;

    InputHash() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    InputHash add(String label, String value) {
        frame(label, value.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    InputHash add(String label, List<String> values) {
        return add(label, String.join("\n", values));
    }

    /** A file's bytes, or a folder's files by relative path and bytes, in a stable order. */
    InputHash addPath(String label, Path path) {
        try {
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> walk = Files.walk(path)) {
                    files = walk.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path file : files) {
                    addFile(label + ":" + path.relativize(file), file);
                }
            } else {
                addFile(label, path);
            }
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read build input " + path, e);
        }
    }

    private void addFile(String label, Path file) throws IOException {
        frame(label, new byte[0]);
        digest.update(longBytes(Files.size(file)));
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
    }

    private void frame(String label, byte[] value) {
        byte[] name = label.getBytes(StandardCharsets.UTF_8);
        digest.update(longBytes(name.length));
        digest.update(name);
        digest.update(longBytes(value.length));
        digest.update(value);
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    String hex() {
        return HexFormat.of().formatHex(digest.digest());
    }
}
