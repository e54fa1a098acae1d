package org.hearth.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A host program in a mount namespace of its own (the image builds' chroots, with their /proc and
 * /dev), copied from the host's as a slave: what it mounts stays inside, and what the host
 * unmounts leaves it too. A private copy (unshare's default) kept every volume open at that moment
 * mounted for the program's whole life: a layer built under emulation, tens of minutes, held the
 * mail app's volumes, and "hearth lock" failed since their loop devices could not let go.
 */
public final class MountNamespace {

    private MountNamespace() {
    }

    /** {@code argv}, run in a new mount namespace that follows the host's unmounts. */
    public static List<String> around(List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "slave"));
        cmd.addAll(argv);
        return cmd;
    }
}
