package org.hearth.mail.webmail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteContentSendersTest {

    @Test
    void aSenderAllowedStaysAllowedForThatOwnerOnlyAcrossRestarts(@TempDir Path dir) throws Exception {
        RemoteContentSenders senders = new RemoteContentSenders(dir.resolve("settings"));
        assertThat(senders.allows("alice@a.test", "news@shop.test")).isFalse();
        senders.allow("Alice@A.test", "News@Shop.test");
        assertThat(senders.allows("alice@a.test", "news@shop.test")).isTrue();
        assertThat(senders.allows("bob@a.test", "news@shop.test")).as("another owner's choice").isFalse();
        assertThat(new RemoteContentSenders(dir.resolve("settings")).allows("alice@a.test", "NEWS@shop.test")).isTrue();
        assertThat(dir.resolve("settings").toFile().list()).allMatch(n -> n.endsWith(".senders") && !n.contains("alice"));
    }
}
