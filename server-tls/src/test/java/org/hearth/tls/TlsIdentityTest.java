package org.hearth.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class TlsIdentityTest {

    @Test
    void storedIdentityIsMadeOnceAndReloaded(@TempDir Path dir) {
        Path file = dir.resolve("tls/server.p12");

        TlsIdentity first = TlsIdentity.stored(file, "mx.demo.hearth.test");
        TlsIdentity again = TlsIdentity.stored(file, "mx.demo.hearth.test");

        assertThat(again.certificate()).isEqualTo(first.certificate());
        assertThat(first.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=mx.demo.hearth.test");
        assertThat(first.serverContext().getProtocol()).isEqualTo("TLS");
    }

    @Test
    void ephemeralIdentitiesDiffer() {
        assertThat(TlsIdentity.ephemeral("a").certificate()).isNotEqualTo(TlsIdentity.ephemeral("a").certificate());
    }
}
