package org.hearth.core.supervisor;

/**
 * One named step of the supervisor's pass over an app, in the spirit of James's mailet pipeline:
 * {@link ReconcilePass} runs the declared steps in order; a step that throws ends its app's pass
 * (later apps still run) and its name and cause become the app's problem in the status.
 */
interface AppStep {

    /** Short and stable: it appears in {@code hearth status} and the log ({@code step=...}). */
    String name();

    /** Idempotent: the next pass repeats it whatever happened before. */
    void apply(AppPass app);
}
