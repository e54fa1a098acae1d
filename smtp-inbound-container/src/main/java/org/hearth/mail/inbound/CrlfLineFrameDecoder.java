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

/**
 * Splits the SMTP stream into lines at CRLF only (RFC 5321 2.3.8), in commands and in DATA alike.
 * James's line decoders also split at a bare LF, so {@code <LF>.<CRLF>} ended DATA here while the
 * sending server saw message text: SMTP smuggling (CVE-2023-51747; James fixed it only in its
 * server's own DATA handler, which this chain does not use). A bare CR or LF therefore stays inside
 * its line, where {@link BareLineEndDataLineFilter} refuses the message. The framer runs on its own
 * executor, ahead of the session, so it cannot know whether it is in DATA: it must not need to.
 * <p>
 * It keeps the protection of James's {@code AllButStartTlsLineBasedChannelHandler}: while the
 * session still watches for injection, anything buffered with or after STARTTLS drops the connection,
 * so nothing sent in plaintext runs inside TLS.
 */
final class CrlfLineFrameDecoder extends ByteToMessageDecoder {

    private static final AttributeKey<CommandDetectionSession> SESSION = AttributeKey.valueOf("session");
    private static final String STARTTLS = "starttls";

    private final int maxLineLength;
    private boolean discarding;
    private boolean startTlsInFlight;

    CrlfLineFrameDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    static ChannelHandlerFactory factory(int maxLineLength) {
        return pipeline -> new CrlfLineFrameDecoder(maxLineLength);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        refuseCommandsBufferedWithStartTls(ctx, in);
        ByteBuf line = nextLine(in);
        if (line != null) {
            out.add(line);
        }
    }

    private ByteBuf nextLine(ByteBuf in) {
        int from = in.readerIndex();
        for (int lf; (lf = in.indexOf(from, in.writerIndex(), (byte) '\n')) >= 0; from = lf + 1) {
            if (lf > in.readerIndex() && in.getByte(lf - 1) == '\r') {
                int length = lf + 1 - in.readerIndex();
                if (discarding || length > maxLineLength) {
                    // Like James's decoder: drop the whole over-long line, then report it.
                    discarding = false;
                    in.skipBytes(length);
                    throw new TooLongFrameException("line longer than " + maxLineLength + " bytes");
                }
                return in.readRetainedSlice(length);
            }
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
