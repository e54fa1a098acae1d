package org.hearth.core.volume;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where an app's volume lives on this machine. A volume is a filesystem in its own backing file,
 * encrypted with its own key; while open, {@link #open} gives the folder that is mounted into
 * the app's containers. Volume names are {@code app-volume}.
 */
public interface VolumeBackend {

    /** {@code luks2}, {@code fscrypt} or {@code plain}. */
    String name();

    /** False only for the development backend behind {@code --insecure-plain-storage}. */
    boolean encrypted();

    /** The size of key this backend wants from the key vault. */
    int keyBytes();

    boolean exists(String volume);

    /** Makes a new volume of {@code sizeBytes} under {@code key} and leaves it open; returns its data folder. */
    Path create(String volume, long sizeBytes, byte[] key) throws IOException;

    /** Opens an existing volume with its key; returns its data folder. Opening an open volume is fine. */
    Path open(String volume, byte[] key) throws IOException;

    boolean isOpen(String volume);

    /** Makes the volume's data unreadable until the next {@link #open}; its containers must be stopped first. */
    void close(String volume) throws IOException;

    /**
     * Grows a closed volume to {@code sizeBytes} (its containers stopped first: online growth
     * needs CAP_SYS_RESOURCE, which sandboxes lack); shrinking is refused. {@code key} is for
     * backends that must open the volume to grow it.
     */
    void grow(String volume, long sizeBytes, byte[] key) throws IOException;

    /** Closes and deletes the volume and its data for good. */
    void destroy(String volume) throws IOException;

    /** The file that holds the volume on disk (what a thief would find). */
    Path backingFile(String volume);

    /** The folder containers mount while the volume is open. */
    Path dataFolder(String volume);
}
