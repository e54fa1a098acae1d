package org.hearth.core.runtime;

/** The container engine is unreachable or refused a request; the message says which and what to do. */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
