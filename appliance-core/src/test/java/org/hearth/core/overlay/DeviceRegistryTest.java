package org.hearth.core.overlay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceRegistryTest {

    @TempDir
    Path dir;

    /**
     * Found by CI: the supervisor's pass read the registry while its control socket added a device,
     * and the second thread got OverlappingFileLockException ("hearth overlay device add" failed)
     * instead of waiting, as a second process would.
     */
    @Test
    void twoThreadsOfOneProcessTakeTurnsInsteadOfFailing() throws Exception {
        DeviceRegistry<String> registry = new DeviceRegistry<>(dir, String.class);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        registry.locked(() -> {
                            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            Thread.onSpinWait();
                            return inside.decrementAndGet();
                        });
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(most.get()).as("threads inside at once").isEqualTo(1);
    }
}
