package org.hearth.mail.store;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.apache.james.imap.api.ImapMessage;

import java.nio.charset.StandardCharsets;

/**
 * One complete IMAP command as the client sent it, literals included, framed by
 * {@link ImapCommandDecoder} and parsed by {@link ParseInTurn} when the commands before it are done.
 */
record FramedCommand(ByteBuf bytes, Channel channel) implements ImapMessage {

    /** The command's tag, wherever its parse left the read position. */
    String tag() {
        return tagOf(bytes.slice(0, bytes.writerIndex()));
    }

    /** The first word of a command's bytes, or {@code *} when there is none. */
    static String tagOf(ByteBuf command) {
        int end = command.readerIndex();
        while (end < command.writerIndex() && command.getByte(end) > ' ') {
            end++;
        }
        String tag = command.toString(command.readerIndex(), end - command.readerIndex(), StandardCharsets.US_ASCII);
        return tag.isEmpty() ? "*" : tag;
    }
}
