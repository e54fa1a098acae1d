package org.hearth.mail.inbound;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.smtp.MailEnvelope;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A mail envelope that keeps the message in fixed 64 KiB chunks and reads them back in place, so a
 * message takes its own size in heap and no more. James's envelope grows by doubling buffers: a
 * message at the 25 MiB limit needed about 51 MB, which smtp-in's 80 MiB heap cannot give, and a
 * sender told 451 retries for days. A message past {@code capacity} is dropped at once and can
 * never be read (so never passed on cut short); the size limit refuses it before that matters.
 */
final class ChunkedMailEnvelope implements MailEnvelope {

    static final int CHUNK_BYTES = 64 * 1024;

    private final MaybeSender sender;
    private final List<MailAddress> recipients;
    private final long capacity;
    private final List<byte[]> chunks = new ArrayList<>();
    private final OutputStream out = new ChunkOutputStream();
    private long size;
    private boolean discarded;

    ChunkedMailEnvelope(MaybeSender sender, List<MailAddress> recipients, long capacity) {
        this.sender = sender;
        this.recipients = List.copyOf(recipients);
        this.capacity = capacity;
    }

    @Override
    public MaybeSender getMaybeSender() {
        return sender;
    }

    @Override
    public List<MailAddress> getRecipients() {
        return recipients;
    }

    @Override
    public OutputStream getMessageOutputStream() {
        return out;
    }

    /** The message as kept; fails if it was discarded, so a partial message is never read as whole. */
    @Override
    public InputStream getMessageInputStream() throws IOException {
        if (discarded) {
            throw new IOException("the message was discarded (over " + capacity + " bytes, or refused)");
        }
        return new ChunkInputStream(List.copyOf(chunks), size);
    }

    @Override
    public long getSize() {
        return size;
    }

    /** Lets go of the message (it is refused anyway) and keeps none of what is written after. */
    void discard() {
        discarded = true;
        chunks.clear();
    }

    private final class ChunkOutputStream extends OutputStream {
        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (discarded) {
                return;
            }
            if (size + len > capacity) {
                discard();
                return;
            }
            while (len > 0) {
                int used = (int) (size % CHUNK_BYTES);
                if (used == 0 && size / CHUNK_BYTES == chunks.size()) {
                    chunks.add(new byte[CHUNK_BYTES]);
                }
                int n = Math.min(len, CHUNK_BYTES - used);
                System.arraycopy(b, off, chunks.get(chunks.size() - 1), used, n);
                size += n;
                off += n;
                len -= n;
            }
        }
    }

    /** Reads the chunks where they are; the list is a snapshot, the chunks themselves are not copied. */
    private static final class ChunkInputStream extends InputStream {
        private final List<byte[]> chunks;
        private final long size;
        private long position;

        ChunkInputStream(List<byte[]> chunks, long size) {
            this.chunks = chunks;
            this.size = size;
        }

        @Override
        public int read() {
            if (position >= size) {
                return -1;
            }
            int b = chunks.get((int) (position / CHUNK_BYTES))[(int) (position % CHUNK_BYTES)] & 0xff;
            position++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (position >= size) {
                return -1;
            }
            int used = (int) (position % CHUNK_BYTES);
            int n = (int) Math.min(Math.min(len, CHUNK_BYTES - used), size - position);
            System.arraycopy(chunks.get((int) (position / CHUNK_BYTES)), used, b, off, n);
            position += n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, size - position);
        }
    }
}
