package org.hearth.core.catalog;

/** A catalog, or something it lists, failed verification or could not be read; the message names which and why. */
public final class CatalogException extends Exception {

    public CatalogException(String message) {
        super(message);
    }

    public CatalogException(String message, Throwable cause) {
        super(message, cause);
    }
}
