package org.hearth.core.runtime;

/**
 * Labels on every engine object Hearth creates. Reconciliation and cleanup find objects by
 * these, never by guessing names.
 */
public final class HearthLabels {
    /** "true" on everything Hearth made. */
    public static final String MANAGED = "org.hearth.managed";
    /**
     * Which Hearth (state folder) owns an object, so two on one engine (a demo and a test run)
     * never adopt or clean up each other's containers.
     */
    public static final String INSTANCE = "org.hearth.instance";
    /** The app an object belongs to ("hearth" for the platform's own images). */
    public static final String APP = "org.hearth.app";
    /** The object's role inside its app (a container name from the manifest, "base" for base images). */
    public static final String ROLE = "org.hearth.role";
    /** The recipe an image was built from. */
    public static final String IMAGE = "org.hearth.image";
    /** SHA-256 of everything an image was built from; equal hash means the build can be skipped. */
    public static final String INPUT_HASH = "org.hearth.input-hash";
    /** Hash of a container's effective spec; a different hash means the container is recreated. */
    public static final String SPEC_HASH = "org.hearth.spec-hash";
    /** A container's lifecycle from its manifest: service, per-connection, per-message. */
    public static final String LIFECYCLE = "org.hearth.lifecycle";
    /**
     * On ephemeral containers: the warm pool (one supervisor run) that made them. A container from
     * another pool may have served a connection nobody tracks any more, so it is destroyed on sight.
     */
    public static final String POOL = "org.hearth.pool";
    /**
     * On the one-off container an upgrade's data migration runs in: the app. No pass adopts, stops or
     * removes a container with this label; the upgrade (or its undoing after a restart) does.
     */
    public static final String MIGRATION = "org.hearth.migration";
    /** Present on objects a test created, so scripts/test can remove them even after a crash. */
    public static final String TEST = "org.hearth.test";

    private HearthLabels() {
    }
}
