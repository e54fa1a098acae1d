package org.hearth.mail.inbound;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.AttributeKey;
import org.apache.james.protocols.api.CommandDetectionSession;
import org.apache.james.protocols.netty.ChannelHandlerFactory;
import org.apache.james.protocols.netty.CommandInjectionDetectedException;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Splits the SMTP stream into lines at each LF, keeping the line end as sent (CRLF or a bare LF), as
 * James's own decoder does; what a bare line end may mean inside DATA is {@link BareLineEndNormalizer}'s
 * to decide, since only the session knows it is in DATA.
 * <p>
 * It keeps the protection of James's {@code AllButStartTlsLineBasedChannelHandler}: while the
 * session still watches for injection, anything buffered with or after STARTTLS drops the connection,
 * so nothing sent in plaintext runs inside TLS.
 * <p>
 * It also stops reading while the session is behind: James hands each framed line to the session
 * through the channel's task queue, without limit, so a fast sender's whole message (25 MiB plus
 * about 80 bytes of bookkeeping per line) piled up there, past smtp-in's heap and container memory.
 */
final class SmtpLineFrameDecoder extends ByteToMessageDecoder {

    private static final AttributeKey<CommandDetectionSession> SESSION = AttributeKey.valueOf("session");
    private static final String STARTTLS = "starttls";

    /** Stop reading with this many bytes framed but not yet handled by the session; read again at a quarter of it. */
    static final long QUEUED_HIGH_BYTES = 1024 * 1024;

    private final int maxLineLength;
    /** Framed but not yet handled; the framer adds, the session's event loop subtracts. */
    private final AtomicLong queued = new AtomicLong();
    private long framedThisRead;
    private boolean discarding;
    private boolean startTlsInFlight;

    SmtpLineFrameDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    static ChannelHandlerFactory factory(int maxLineLength) {
        return pipeline -> new SmtpLineFrameDecoder(maxLineLength);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        refuseCommandsBufferedWithStartTls(ctx, in);
        ByteBuf line = nextLine(in);
        if (line != null) {
            framedThisRead += line.readableBytes();
            out.add(line);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        super.channelRead(ctx, msg);
        long framed = framedThisRead;
        framedThisRead = 0;
        if (framed == 0) {
            return;
        }
        if (queued.addAndGet(framed) > QUEUED_HIGH_BYTES) {
            ctx.channel().config().setAutoRead(false);
        }
        // Queued behind the lines just framed, so it runs once the session has handled them.
        ctx.channel().eventLoop().execute(() -> {
            if (queued.addAndGet(-framed) <= QUEUED_HIGH_BYTES / 4) {
                // Reading is resumed on this framer's thread, where it is stopped: Netty carries out
                // each switch later on the event loop, and the two must not pass each other there.
                ctx.executor().execute(() -> resumeReadingIfDrained(ctx));
            }
        });
    }

    private void resumeReadingIfDrained(ChannelHandlerContext ctx) {
        if (queued.get() <= QUEUED_HIGH_BYTES / 4 && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private ByteBuf nextLine(ByteBuf in) {
        int from = in.readerIndex();
        int lf = in.indexOf(from, in.writerIndex(), (byte) '\n');
        if (lf >= 0) {
            int length = lf + 1 - in.readerIndex();
            if (discarding || length > maxLineLength) {
                // Like James's decoder: drop the whole over-long line, then report it.
                discarding = false;
                in.skipBytes(length);
                throw new TooLongFrameException("line longer than " + maxLineLength + " bytes");
            }
            return in.readRetainedSlice(length);
        }
        if (in.readableBytes() > maxLineLength) {
            discarding = true;
            // Keep a trailing CR: its LF may come in the next packet.
            in.skipBytes(in.readableBytes() - (in.getByte(in.writerIndex() - 1) == '\r' ? 1 : 0));
        }
        return null;
    }

    private void refuseCommandsBufferedWithStartTls(ChannelHandlerContext ctx, ByteBuf in) {
        CommandDetectionSession session = ctx.channel().attr(SESSION).get();
        if (session != null && !session.needsCommandInjectionDetection()) {
            return;
        }
        List<String> lines = Arrays.stream(in.toString(StandardCharsets.US_ASCII).toLowerCase(Locale.US).split("[\r\n]+"))
                .map(String::trim).filter(l -> !l.isEmpty()).toList();
        boolean startTls = lines.stream().anyMatch(l -> l.startsWith(STARTTLS));
        if (startTlsInFlight || startTls && (lines.size() > 1 || !lines.get(0).equals(STARTTLS))) {
            throw new CommandInjectionDetectedException();
        }
        // Nothing more is read as plaintext once STARTTLS is framed (the session stops watching when TLS starts).
        startTlsInFlight = startTls;
    }
}
