package org.hearth.mail.store;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.apache.james.imap.api.ImapMessage;

/**
 * One complete IMAP command as the client sent it, literals included, framed by
 * {@link ImapCommandDecoder} and parsed by {@link ParseInTurn} when the commands before it are done.
 */
record FramedCommand(ByteBuf bytes, Channel channel) implements ImapMessage {
}
