package org.hearth.core.image;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One image Hearth builds, as declared in {@code image-build/images/NAME/image.yaml}.
 * Every image runs as {@link #USER}, never root.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
        @JsonSubTypes.Type(value = ImageRecipe.Debootstrap.class, name = "debootstrap"),
        @JsonSubTypes.Type(value = ImageRecipe.Jlink.class, name = "jlink"),
        @JsonSubTypes.Type(value = ImageRecipe.Dockerfile.class, name = "dockerfile"),
})
public sealed interface ImageRecipe {

    /** The unprivileged user and group every Hearth image runs as. */
    int UID = 10001;
    int GID = 10001;
    String USER = UID + ":" + GID;

    /** Repository name, e.g. {@code hearth/java-base}; built as {@code NAME:latest} (see {@link ImagePlatform#tag}). */
    String name();

    /** The recipe's own folder; filled in by the loader, not the YAML. */
    Path dir();

    ImageRecipe withDir(Path dir);

    /** Images this one is built on, which must be built first. */
    default List<String> bases() {
        return List.of();
    }

    default String tag(ImagePlatform platform) {
        return name() + ":" + platform.tag();
    }

    /**
     * How this kind of recipe is built.
     *
     * @param platform      the architecture it is built for
     * @param baseInputHash the input hash of a base image built here, by tag
     */
    RecipeKind buildWith(ImagePlatform platform, Function<String, Optional<String>> baseInputHash);

    /** A Debian root filesystem made by debootstrap from the build machine's own apt mirror. */
    record Debootstrap(String name, Path dir, String suite, String variant, List<String> include)
            implements ImageRecipe {
        public Debootstrap {
            include = include == null ? List.of() : List.copyOf(include);
        }

        @Override
        public ImageRecipe withDir(Path newDir) {
            return new Debootstrap(name, newDir, suite, variant, include);
        }

        @Override
        public RecipeKind buildWith(ImagePlatform platform, Function<String, Optional<String>> baseInputHash) {
            return new DebootstrapKind(this, platform);
        }
    }

    /**
     * A from-scratch image holding a jlink-ed runtime of the build machine's JDK and the libraries it links.
     *
     * @param nativeLibraries JNI libraries the services load (paths relative to the recipe folder, where
     *                        {@code {arch}} stands for the architecture built for), put
     *                        in {@code /usr/lib}, on Java's default library path; what they link comes too
     */
    record Jlink(String name, Path dir, List<String> modules,
                 @JsonProperty("native-libraries") List<String> nativeLibraries) implements ImageRecipe {
        public Jlink {
            modules = List.copyOf(modules);
            nativeLibraries = nativeLibraries == null ? List.of() : List.copyOf(nativeLibraries);
        }

        @Override
        public ImageRecipe withDir(Path newDir) {
            return new Jlink(name, newDir, modules, nativeLibraries);
        }

        @Override
        public RecipeKind buildWith(ImagePlatform platform, Function<String, Optional<String>> baseInputHash) {
            return new JlinkKind(this, platform);
        }
    }

    /**
     * A Dockerfile in the recipe folder, built on other Hearth images only.
     *
     * @param from  the Hearth images the Dockerfile names in FROM
     * @param files build-context name to a path relative to the recipe folder (a file or folder)
     */
    record Dockerfile(String name, Path dir, List<String> from, Map<String, String> files)
            implements ImageRecipe {
        public Dockerfile {
            from = from == null ? List.of() : List.copyOf(from);
            files = files == null ? Map.of() : Map.copyOf(files);
        }

        @Override
        public List<String> bases() {
            return from;
        }

        @Override
        public ImageRecipe withDir(Path newDir) {
            return new Dockerfile(name, newDir, from, files);
        }

        @Override
        public RecipeKind buildWith(ImagePlatform platform, Function<String, Optional<String>> baseInputHash) {
            return new DockerfileKind(this, platform, baseInputHash);
        }
    }
}
