package org.hearth.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Keys and records written whole, readable by their owner alone, with nothing left beside them. */
class OwnerOnlyFileTest {

    @Test
    void writersAtOnceEachLeaveAWholeFileAndNoPartOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("key.pem");
        ExecutorService writers = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String text = ("writer " + i + "\n").repeat(1000);
                done.add(writers.submit(() -> {
                    OwnerOnlyFile.write(file, text);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            writers.shutdownNow();
        }
        String whole = Files.readString(file);
        assertThat(whole.lines().distinct()).as("one writer's text, whole").hasSize(1);
        assertThat(whole.lines()).hasSize(1000);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
    }
}
