package org.hearth.core.yaml;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class YamlLinesTest {

    private static final String DOC = """
            app: mail
            containers:
              smtp-in:
                ports:
                  - port: 25
                    exposure: public
                  - port: 587
                    exposure: publik
            """;

    @Test
    void findsTheLineOfANestedKey() {
        assertThat(YamlLines.of(DOC).lineOf(List.of("containers", "smtp-in", "ports", "1", "exposure"))).hasValue(8);
        assertThat(YamlLines.of(DOC).lineOf(List.of("containers", "smtp-in", "ports", "0"))).hasValue(5);
    }

    @Test
    void stopsAtTheDeepestPartThatExists() {
        assertThat(YamlLines.of(DOC).lineOf(List.of("containers", "smtp-in", "volumes", "0"))).hasValue(3);
    }

    @Test
    void unparsableTextHasNoLines() {
        assertThat(YamlLines.of("a: [unclosed").lineOf(List.of("a"))).isEmpty();
    }
}
