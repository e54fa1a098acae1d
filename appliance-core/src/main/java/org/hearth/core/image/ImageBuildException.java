package org.hearth.core.image;

/** An image recipe is invalid or its build failed; the message names the recipe and the step. */
public class ImageBuildException extends RuntimeException {
    public ImageBuildException(String message) {
        super(message);
    }

    public ImageBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
