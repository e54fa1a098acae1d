package org.hearth.core.manifest;

import java.util.OptionalInt;

/**
 * One thing wrong with a manifest, where it is and what is allowed:
 * {@code manifests/mail/app.yaml:14: containers.smtp-in.ports[0].exposure: "publik" is not one of public, private, internal}.
 */
public record ManifestProblem(String file, OptionalInt line, String field, String message) {

    @Override
    public String toString() {
        return file + (line.isPresent() ? ":" + line.getAsInt() : "") + ": "
                + (field.isEmpty() ? "" : field + ": ") + message;
    }
}
