package org.hearth.mail.outbound.delivery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay's checked TLS is made once, and again only when the owner's trust file changes. */
class RelayTest {

    @TempDir
    Path dir;

    @Test
    void theTlsIsKeptWhileTheTrustFileStaysTheSameAndMadeAgainWhenItChanges() throws Exception {
        Path secrets = Files.createDirectories(dir.resolve("secrets"));
        Relay relay = new Relay("smtp.relay.test", 587, Optional.of("alice"), secrets);

        SSLContext publicOnly = relay.tls();
        assertThat(relay.tls()).isSameAs(publicOnly);

        Path[] first = SmtpClientTest.selfSigned(Files.createDirectories(dir.resolve("first")), "smtp.relay.test");
        Files.copy(first[0], secrets.resolve(Relay.TRUST_FILE));
        SSLContext withFirst = relay.tls();
        assertThat(withFirst).isNotSameAs(publicOnly);
        assertThat(relay.tls()).isSameAs(withFirst);

        Path[] second = SmtpClientTest.selfSigned(Files.createDirectories(dir.resolve("second")), "smtp.relay.test");
        Files.copy(second[0], secrets.resolve(Relay.TRUST_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(relay.tls()).isNotSameAs(withFirst);

        Files.delete(secrets.resolve(Relay.TRUST_FILE));
        SSLContext withoutFile = relay.tls();
        assertThat(withoutFile).isNotSameAs(publicOnly);
        assertThat(relay.tls()).isSameAs(withoutFile);
    }
}
