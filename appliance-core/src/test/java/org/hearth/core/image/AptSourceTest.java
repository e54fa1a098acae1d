package org.hearth.core.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AptSourceTest {

    @Test
    void readsDeb822StanzaWithSignedByAndCommentedSnapshotLine() {
        String text = """
                Types: deb
                # http://snapshot.debian.org/archive/debian/20250520T000000Z
                URIs: http://deb.debian.org/debian
                Suites: bookworm bookworm-updates
                Components: main
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

                Types: deb
                URIs: http://deb.debian.org/debian-security
                Suites: bookworm-security
                Components: main
                """;

        assertThat(AptSource.parseDeb822(text, "bookworm")).contains(new AptSource(
                "http://deb.debian.org/debian", Optional.of("/usr/share/keyrings/debian-archive-keyring.gpg")));
        assertThat(AptSource.parseDeb822(text, "bookworm-security").map(AptSource::uri))
                .contains("http://deb.debian.org/debian-security");
    }

    @Test
    void readsOneLineFormWithOptions() {
        String text = """
                # deb http://old.example/debian bookworm main
                deb-src http://src.example/debian bookworm main
                deb [arch=arm64 signed-by=/etc/apt/keyrings/d.gpg] http://mirror.example/debian bookworm main contrib
                """;

        assertThat(AptSource.parseOneLine(text, "bookworm"))
                .contains(new AptSource("http://mirror.example/debian", Optional.of("/etc/apt/keyrings/d.gpg")));
    }

    @Test
    void skipsSourcesWithoutMainOrForOtherSuites() {
        assertThat(AptSource.parseOneLine("deb http://m.example/debian bookworm contrib\n", "bookworm")).isEmpty();
        assertThat(AptSource.parseOneLine("deb http://m.example/debian trixie main\n", "bookworm")).isEmpty();
        assertThat(AptSource.parseDeb822("Types: deb\nURIs: http://m\nSuites: bookworm\nComponents: main\nEnabled: no\n",
                "bookworm")).isEmpty();
    }

    @Test
    void namesTheFolderWhenNoSourceOffersTheSuite(@TempDir Path apt) throws IOException {
        Files.writeString(apt.resolve("sources.list"), "deb http://m.example/debian trixie main\n");

        assertThatThrownBy(() -> AptSource.forSuite(apt, "bookworm"))
                .isInstanceOf(ImageBuildException.class)
                .hasMessageContaining(apt.toString())
                .hasMessageContaining("bookworm main");
    }

    @Test
    void prefersSourcesListThenSortedSourcesFiles(@TempDir Path apt) throws IOException {
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.writeString(apt.resolve("sources.list.d/b.sources"),
                "Types: deb\nURIs: http://b.example/debian\nSuites: bookworm\nComponents: main\n");
        Files.writeString(apt.resolve("sources.list.d/a.list"), "deb http://a.example/debian bookworm main\n");

        assertThat(AptSource.forSuite(apt, "bookworm").uri()).isEqualTo("http://a.example/debian");
    }
}
