package org.hearth.core.image;

import java.io.IOException;
import java.util.List;

/**
 * The architecture images are built for. This machine's own is tagged {@code latest}, the tag
 * manifests run; another's (arm64 for the Raspberry Pi, built here for its catalog) is tagged with
 * its name, and its programs run under qemu-user while the image is built.
 *
 * @param arch    Debian's name: amd64, arm64
 * @param foreign whether it is not this machine's own
 */
public record ImagePlatform(String arch, boolean foreign) {

    /** The architectures Hearth's recipes build for (a JDK and Amazon Corretto Crypto Provider's native half exist for each). */
    public static final List<String> ARCHES = List.of("amd64", "arm64");

    public ImagePlatform {
        if (!ARCHES.contains(arch)) {
            throw new ImageBuildException("arch " + arch + ": images are built for " + String.join(" or ", ARCHES));
        }
    }

    /** This machine's own architecture. */
    public static ImagePlatform host() {
        return host(BuildTools.fromEnvironment());
    }

    static ImagePlatform host(BuildTools tools) {
        return new ImagePlatform(hostArchitecture(tools), false);
    }

    /** {@code arch}, foreign unless it is this machine's. */
    public static ImagePlatform named(String arch) {
        return named(arch, BuildTools.fromEnvironment());
    }

    static ImagePlatform named(String arch, BuildTools tools) {
        return new ImagePlatform(arch, !arch.equals(hostArchitecture(tools)));
    }

    private static String hostArchitecture(BuildTools tools) {
        try {
            return tools.hostArchitecture();
        } catch (IOException e) {
            throw new ImageBuildException("cannot tell this machine's architecture: " + BuildSteps.describe(e), e);
        }
    }

    /** The tag its images carry: {@code latest} for this machine's, else the architecture's name. */
    public String tag() {
        return foreign ? arch : "latest";
    }

    /** The engine's name for it. */
    String enginePlatform() {
        return "linux/" + arch;
    }
}
