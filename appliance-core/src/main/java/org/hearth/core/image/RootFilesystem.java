package org.hearth.core.image;

import org.hearth.core.SystemTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** A root filesystem made on the host and added to a from-scratch image, and the file work around it. */
final class RootFilesystem {

    private RootFilesystem() {
    }

    /** The unprivileged user every image runs as. */
    static void addHearthUser(Path rootfs) throws IOException {
        Files.writeString(rootfs.resolve("etc/passwd"),
                "hearth:x:" + ImageRecipe.UID + ":" + ImageRecipe.GID + ":Hearth service:/nonexistent:/usr/sbin/nologin\n",
                StandardOpenOption.APPEND);
        Files.writeString(rootfs.resolve("etc/group"), "hearth:x:" + ImageRecipe.GID + ":\n", StandardOpenOption.APPEND);
    }

    /** A Dockerfile adding {@code rootfs.tar} to scratch, then {@code extra}, run as the hearth user. */
    static void writeDockerfile(Path context, List<String> extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of("FROM scratch", "ADD rootfs.tar /"));
        lines.addAll(extra);
        lines.add("USER " + ImageRecipe.USER);
        Files.write(context.resolve("Dockerfile"), lines);
    }

    /** System tar keeps owners, modes, links and device nodes exactly; the engine unpacks it with ADD. */
    static void pack(Path rootfs, Path archive, BuildSteps steps) throws IOException {
        steps.run(List.of("tar", "--numeric-owner", "-C", rootfs.toString(), "-cf", archive.toString(), "."),
                line -> Optional.empty());
    }

    static void copyTree(Path source, Path target) throws IOException {
        if (Files.isDirectory(source)) {
            try (Stream<Path> walk = Files.walk(source)) {
                for (Path p : walk.toList()) {
                    Path t = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        } else {
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        unmountBelow(root);
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A failed debootstrap can leave /proc or /sys mounted in its target: never walk into those. */
    private static void unmountBelow(Path root) throws IOException {
        String prefix = root.toAbsolutePath().normalize() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].startsWith(prefix)) {
                mounts.add(fields[1]);
            }
        }
        mounts.sort(Comparator.reverseOrder());
        for (String mount : mounts) {
            // Lazily, and whatever it says: what stays mounted is skipped by the walk that follows.
            SystemTool.attempt(new byte[0], "umount", "-l", mount);
        }
    }
}
