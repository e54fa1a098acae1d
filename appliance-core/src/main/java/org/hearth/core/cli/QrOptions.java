package org.hearth.core.cli;

import org.hearth.core.overlay.QrCode;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/** The QR code options of commands that show a phone something to scan (a device's configuration, a pairing link). */
final class QrOptions {

    @Option(names = "--qr-png", paramLabel = "FILE", description = "Also write the QR code as a PNG (owner-only) to FILE.")
    Optional<Path> png = Optional.empty();

    @Option(names = "--no-qr", description = "Do not print the QR code.")
    boolean noQr;

    /** The QR code of {@code text} on the terminal (followed by {@code hint}) unless --no-qr, and in --qr-png's file. */
    void show(String text, String hint) throws IOException {
        if (!noQr) {
            System.out.println();
            System.out.print(QrCode.of(text).terminal());
            System.out.println(hint);
        }
        if (png.isPresent()) {
            Path file = png.get();
            Files.deleteIfExists(file);
            // One open that creates the file owner-only: no window for a link swapped in between.
            try (var out = Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                out.write(ByteBuffer.wrap(QrCode.of(text).png(8)));
            }
            System.out.println("QR code written to " + file);
        }
    }
}
