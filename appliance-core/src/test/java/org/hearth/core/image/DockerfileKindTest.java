package org.hearth.core.image;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A Dockerfile built for another architecture names that architecture's bases. */
class DockerfileKindTest {

    private static final ImageRecipe.Dockerfile RECIPE = new ImageRecipe.Dockerfile("hearth/mail-spam", Path.of("/r/mail-spam"),
            List.of("hearth/spamassassin-base"), Map.of());

    private static DockerfileKind kind(ImagePlatform platform) {
        return new DockerfileKind(RECIPE, platform, tag -> Optional.empty());
    }

    @Test
    void fromLinesNameTheArchitecturesTagAndNothingElseChanges() {
        String dockerfile = "FROM hearth/spamassassin-base:latest\nCOPY a /b\nRUN [\"spamassassin\", \"--lint\"]\n";

        assertThat(kind(new ImagePlatform("arm64", true)).forPlatform(dockerfile))
                .isEqualTo("FROM hearth/spamassassin-base:arm64\nCOPY a /b\nRUN [\"spamassassin\", \"--lint\"]\n");
        assertThat(kind(new ImagePlatform("amd64", false)).forPlatform(dockerfile)).isEqualTo(dockerfile);
    }

    @Test
    void aFromLineNotNamingARecipeBaseAsLatestIsRefused() {
        assertThatThrownBy(() -> kind(new ImagePlatform("arm64", true)).forPlatform("FROM debian:bookworm\n"))
                .hasMessage("/r/mail-spam/Dockerfile: FROM debian:bookworm: a FROM line names one of the recipe's from "
                        + "(hearth/spamassassin-base) as NAME:latest, and nothing else");
        assertThatThrownBy(() -> kind(new ImagePlatform("arm64", true)).forPlatform("FROM hearth/spamassassin-base:latest AS scan\n"))
                .hasMessageContaining("FROM hearth/spamassassin-base:latest AS scan: a FROM line");
    }

    @Test
    void anArchitectureNoRecipeBuildsForIsRefused() {
        assertThatThrownBy(() -> new ImagePlatform("riscv64", true))
                .hasMessage("arch riscv64: images are built for amd64 or arm64");
    }
}
