package org.hearth.mail.store;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class FramedCommandTest {

    private static FramedCommand command(String text) {
        return new FramedCommand(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII), null);
    }

    @Test
    void theVerbForTheLogNamesUidCommandsFullyAndNeverCarriesArguments() {
        assertThat(command("a1 uid fetch 1:* (UID FLAGS)\r\n").verb()).isEqualTo("UID FETCH");
        assertThat(command("a2 LOGIN alice@example.org correct-horse\r\n").verb()).isEqualTo("LOGIN");
        assertThat(command("a3 NOOP\r\n").verb()).isEqualTo("NOOP");
        assertThat(command("a4\r\n").verb()).isEqualTo("?");
    }
}
