package org.hearth.core.manifest;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest that cannot be applied; carries every problem found, not just the first. */
public class ManifestException extends RuntimeException {

    private final List<ManifestProblem> problems;

    public ManifestException(List<ManifestProblem> problems) {
        super(problems.stream().map(ManifestProblem::toString).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<ManifestProblem> problems() {
        return problems;
    }
}
