package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Path;

/**
 * How one kind of recipe is built, one class per kind: what its image is made from (for the
 * input hash that decides whether it is rebuilt) and how its build context is made. The engine
 * build that follows is the same for every kind.
 */
interface RecipeKind {

    /**
     * Adds what this kind's image is made from, beyond the recipe file and the builder's revision
     * ({@code steps}: where a kind that must fetch something to know its inputs says so).
     */
    void addInputs(InputHash hash, BuildSteps steps) throws IOException;

    /** Fills {@code context} with a Dockerfile and what it adds, using {@code work} as scratch space. */
    void prepareContext(Path work, Path context, BuildSteps steps);
}
