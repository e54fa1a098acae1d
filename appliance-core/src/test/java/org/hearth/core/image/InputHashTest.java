package org.hearth.core.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class InputHashTest {

    @Test
    void framingKeepsDifferentSplitsApart() {
        String a = new InputHash().add("x", "ab").add("y", "c").hex();
        String b = new InputHash().add("x", "a").add("y", "bc").hex();

        assertThat(a).isNotEqualTo(b).hasSize(64);
    }

    @Test
    void folderHashDependsOnContentAndNamesButNotOnCreationOrder(@TempDir Path tmp) throws IOException {
        Path one = Files.createDirectories(tmp.resolve("one/sub"));
        Files.writeString(one.resolve("a"), "alpha");
        Files.writeString(one.getParent().resolve("b"), "beta");
        Path two = Files.createDirectories(tmp.resolve("two/sub"));
        Files.writeString(two.getParent().resolve("b"), "beta");
        Files.writeString(two.resolve("a"), "alpha");

        String h1 = new InputHash().addPath("ctx", tmp.resolve("one")).hex();
        String h2 = new InputHash().addPath("ctx", tmp.resolve("two")).hex();
        assertThat(h1).isEqualTo(h2);

        Files.writeString(two.resolve("a"), "alphA");
        assertThat(new InputHash().addPath("ctx", tmp.resolve("two")).hex()).isNotEqualTo(h1);

        Files.writeString(two.resolve("a"), "alpha");
        Files.move(two.resolve("a"), two.resolve("c"));
        assertThat(new InputHash().addPath("ctx", tmp.resolve("two")).hex()).isNotEqualTo(h1);
    }
}
