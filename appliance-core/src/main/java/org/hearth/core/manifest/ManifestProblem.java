package org.hearth.core.manifest;

import org.hearth.core.yaml.YamlLines;

import java.util.List;
import java.util.OptionalInt;

/**
 * One thing wrong with a manifest, where it is and what is allowed:
 * {@code manifests/mail/app.yaml:14: containers.smtp-in.ports[0].exposure: "publik" is not one of public, private, internal}.
 */
public record ManifestProblem(String file, OptionalInt line, String field, String message) {

    /** The problem at {@code path} in a document, with the line the path starts on. */
    public static ManifestProblem at(String file, YamlLines lines, List<String> path, String message) {
        return new ManifestProblem(file, lines.lineOf(path), field(path), message);
    }

    /** {@code containers.smtp-in.ports[0].exposure} for the path containers, smtp-in, ports, 0, exposure. */
    static String field(List<String> path) {
        StringBuilder b = new StringBuilder();
        for (String step : path) {
            if (step.matches("\\d+")) {
                b.append('[').append(step).append(']');
            } else {
                b.append(b.length() == 0 ? "" : ".").append(step);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return file + (line.isPresent() ? ":" + line.getAsInt() : "") + ": "
                + (field.isEmpty() ? "" : field + ": ") + message;
    }
}
