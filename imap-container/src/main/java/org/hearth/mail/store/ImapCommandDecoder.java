package org.hearth.mail.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.apache.james.imap.api.Tag;
import org.apache.james.imap.api.display.HumanReadableText;
import org.apache.james.imap.api.process.ImapSession;
import org.apache.james.imap.message.response.UnpooledStatusResponseFactory;
import org.apache.james.imapserver.netty.NettyConstants;
import org.apache.james.protocols.netty.LineHandlerAware;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Frames whole IMAP commands, literals included, before James's parser sees a byte of them.
 *
 * <p>James's own pair (a line framer that its request decoder removes from the pipeline while a
 * literal arrives) loses a pipelined command after a non-synchronizing literal ({@code {N+}}): the
 * framer's leftover bytes are handed back while the decoder stands past the literal's header, so
 * the message text runs as commands. Here one handler reads line by line; a line ending in a
 * literal header ({@code {N}}, {@code {N+}}) makes the next N bytes part of the same command,
 * whatever they contain, and only a line without one ends the command. So literal bytes can
 * never be taken for commands, in any packet split. A synchronizing literal gets its {@code +}
 * continuation here. The complete command goes on as a {@link FramedCommand}, parsed in its turn
 * by {@link ParseInTurn}.
 *
 * <p>Limits: a line (outside literals) longer than {@link #MAX_LINE_BYTES} closes the
 * connection (no later byte could be framed safely); a literal over the APPENDLIMIT is answered
 * {@code NO [TOOBIG]}: a synchronizing one is never invited, a non-synchronizing one is read and
 * dropped without being kept. Bytes sent after STARTTLS before TLS is up close the connection
 * (a man in the middle could have injected them).
 */
final class ImapCommandDecoder extends ByteToMessageDecoder implements LineHandlerAware {

    static final int MAX_LINE_BYTES = 64 * 1024;
    static final String CONTINUATION = "+ Ready for literal data\r\n";

    private static final Logger LOG = LoggerFactory.getLogger(ImapCommandDecoder.class);
    private static final UnpooledStatusResponseFactory RESPONSES = new UnpooledStatusResponseFactory();

    private final long appendLimit;
    /** IDLE's DONE and AUTHENTICATE's answers are plain lines for a handler James pushes (from its threads). */
    private final Deque<ChannelInboundHandlerAdapter> lineHandlers = new ConcurrentLinkedDeque<>();

    // The command being framed: bytes [readerIndex, readerIndex + framed) are complete lines and literals.
    private int framed;
    private long literalBytes = -1;
    // Bytes of a refused literal still to come, dropped as they arrive.
    private long dropping;
    private boolean startTlsRequested;

    ImapCommandDecoder(long appendLimit) {
        this.appendLimit = appendLimit;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        ImapSession session = ctx.channel().attr(NettyConstants.IMAP_SESSION_ATTRIBUTE_KEY).get();
        if (startTlsRequested && session != null && !session.isTLSActive()) {
            refuseInjection(ctx, in, "bytes after STARTTLS before TLS started");
            return;
        }
        startTlsRequested = false;
        if (dropping > 0) {
            int n = (int) Math.min(dropping, in.readableBytes());
            in.skipBytes(n);
            dropping -= n;
            return;
        }
        ChannelInboundHandlerAdapter lineHandler = lineHandlers.peekFirst();
        if (lineHandler != null && framed == 0 && literalBytes < 0) {
            passLine(ctx, in, lineHandler);
            return;
        }
        while (true) {
            int start = in.readerIndex();
            if (literalBytes >= 0) {
                if (in.readableBytes() - framed < literalBytes) {
                    return;
                }
                framed += (int) literalBytes;
                literalBytes = -1;
            }
            int lineEnd = in.indexOf(start + framed, in.writerIndex(), (byte) '\n');
            if (lineEnd < 0) {
                if (in.readableBytes() - framed > MAX_LINE_BYTES) {
                    tooLong(ctx, in);
                }
                return;
            }
            int lineStart = start + framed;
            framed = lineEnd + 1 - start;
            LiteralHeader literal = LiteralHeader.at(in, lineStart, lineEnd);
            if (literal == null) {
                commandComplete(ctx, in, out, session);
                return;
            }
            if (literal.size() > appendLimit) {
                refuseLiteral(ctx, in, out, literal);
                return;
            }
            literalBytes = literal.size();
            // The sender of a synchronizing literal waits for the continuation, even for {0}.
            if (literal.synchronizing()) {
                ctx.writeAndFlush(Unpooled.copiedBuffer(CONTINUATION, StandardCharsets.US_ASCII));
            }
        }
    }

    /** A complete command, copied out whole; {@link ParseInTurn} parses it when its turn comes. */
    private void commandComplete(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, ImapSession session) {
        if (session == null) {
            in.skipBytes(in.readableBytes()); // the connection is gone
            framed = 0;
            return;
        }
        ByteBuf command = Unpooled.copiedBuffer(in.readSlice(framed));
        framed = 0;
        if (isStartTls(command) && !session.isTLSActive()) {
            if (in.isReadable()) {
                refuseInjection(ctx, in, "bytes pipelined after STARTTLS");
                return;
            }
            startTlsRequested = true;
        }
        out.add(new FramedCommand(command, ctx.channel()));
    }

    /**
     * A literal over the APPENDLIMIT (RFC 7889): the command is answered NO [TOOBIG] once its
     * sender is done with it. A synchronizing literal is never invited, so the command ends here;
     * a non-synchronizing one is on its way and is dropped as it arrives, then the rest of the
     * command line.
     */
    private void refuseLiteral(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, LiteralHeader literal) {
        String tag = FramedCommand.tagOf(in.slice(in.readerIndex(), framed));
        LOG.info("event=literal-refused bytes={} limit={}", literal.size(), appendLimit);
        in.skipBytes(framed);
        framed = 0;
        out.add(RESPONSES.taggedNo(new Tag(tag), null,
                new HumanReadableText("org.hearth.imap.toobig", "Message is larger than the APPENDLIMIT of " + appendLimit + " bytes"),
                ResponseCodes.TOOBIG));
        if (!literal.synchronizing()) {
            dropping = literal.size(); // decode() drops it as it arrives
            // What follows the literal (at least the command's CRLF) belongs to the refused command.
            lineHandlers.addFirst(new DropRestOfCommand());
        }
    }

    /** Drops the refused command's remaining lines; a further literal header there is dropped too. */
    private final class DropRestOfCommand extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf line = (ByteBuf) msg;
            LiteralHeader more = LiteralHeader.at(line, line.readerIndex(), line.writerIndex() - 1);
            line.skipBytes(line.readableBytes());
            if (more != null && !more.synchronizing()) {
                dropping = more.size();
                return;
            }
            lineHandlers.remove(this);
        }
    }

    private void passLine(ChannelHandlerContext ctx, ByteBuf in, ChannelInboundHandlerAdapter handler) throws Exception {
        int lineEnd = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
        if (lineEnd < 0) {
            if (in.readableBytes() > MAX_LINE_BYTES) {
                tooLong(ctx, in);
            }
            return;
        }
        handler.channelRead(ctx, in.readSlice(lineEnd + 1 - in.readerIndex()));
    }

    private void tooLong(ChannelHandlerContext ctx, ByteBuf in) {
        LOG.info("event=line-too-long limit={}", MAX_LINE_BYTES);
        close(ctx, in, "* BYE Command line longer than " + MAX_LINE_BYTES + " bytes\r\n");
    }

    private void refuseInjection(ChannelHandlerContext ctx, ByteBuf in, String what) {
        LOG.warn("event=command-injection-refused what=\"{}\"", what);
        close(ctx, in, null);
    }

    private void close(ChannelHandlerContext ctx, ByteBuf in, String bye) {
        in.skipBytes(in.readableBytes());
        framed = 0;
        literalBytes = -1;
        ctx.channel().config().setAutoRead(false);
        ByteBuf last = bye == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(bye, StandardCharsets.US_ASCII);
        ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
    }

    private static boolean isStartTls(ByteBuf command) {
        // "tag STARTTLS" is one short line: an APPEND's megabytes are never turned into a string here.
        if (command.readableBytes() > 80) {
            return false;
        }
        String line = command.toString(StandardCharsets.US_ASCII).trim();
        int space = line.indexOf(' ');
        return space > 0 && line.substring(space + 1).trim().toUpperCase(Locale.ROOT).equals("STARTTLS");
    }

    @Override
    public void pushLineHandler(ChannelInboundHandlerAdapter handler) {
        lineHandlers.addFirst(handler);
    }

    @Override
    public void popLineHandler() {
        lineHandlers.pollFirst();
    }

    /**
     * A literal header ending a line: {@code {N}} (synchronizing) or {@code {N+}} (RFC 7888), right
     * before the CRLF (or a bare LF).
     */
    record LiteralHeader(long size, boolean synchronizing) {
        static LiteralHeader at(ByteBuf buf, int lineStart, int lineFeed) {
            int i = lineFeed - 1;
            if (i >= lineStart && buf.getByte(i) == '\r') {
                i--;
            }
            if (i < lineStart || buf.getByte(i) != '}') {
                return null;
            }
            i--;
            boolean synchronizing = true;
            if (i >= lineStart && buf.getByte(i) == '+') {
                synchronizing = false;
                i--;
            }
            int lastDigit = i;
            while (i >= lineStart && Character.isDigit(buf.getByte(i))) {
                i--;
            }
            int digits = lastDigit - i;
            if (digits == 0 || digits > 10 || i < lineStart || buf.getByte(i) != '{') {
                return null;
            }
            long size = Long.parseLong(buf.toString(i + 1, digits, StandardCharsets.US_ASCII));
            return new LiteralHeader(size, synchronizing);
        }
    }
}
