package org.hearth.mail.store;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.apache.james.imap.api.ImapMessage;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One complete IMAP command as the client sent it, literals included, framed by
 * {@link ImapCommandDecoder} and parsed by {@link ParseInTurn} when the commands before it are done.
 */
record FramedCommand(ByteBuf bytes, Channel channel) implements ImapMessage {

    /** The command's tag, wherever its parse left the read position. */
    String tag() {
        return tagOf(bytes.slice(0, bytes.writerIndex()));
    }

    /**
     * What the command asks for, for the log: its verb, with the verb after {@code UID}; never its
     * arguments (a LOGIN's are a password).
     */
    String verb() {
        String[] words = bytes.toString(0, Math.min(bytes.writerIndex(), 64), StandardCharsets.US_ASCII)
                .split("[ \r\n]+", 4);
        if (words.length < 2 || words[1].isEmpty()) {
            return "?";
        }
        String verb = words[1].toUpperCase(Locale.ROOT);
        return verb.equals("UID") && words.length > 2 ? verb + " " + words[2].toUpperCase(Locale.ROOT) : verb;
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
