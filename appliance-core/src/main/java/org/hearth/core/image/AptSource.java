package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Debian mirror that apt on the build machine already uses, read from
 * {@code /etc/apt/sources.list} (one-line form) and {@code sources.list.d/*.sources} (deb822).
 * Root filesystems are bootstrapped from it, so a build reaches nothing apt does not.
 *
 * @param keyring the {@code Signed-By} keyring, if the source names one
 */
record AptSource(String uri, Optional<String> keyring) {

    static AptSource forSuite(Path aptDir, String suite) {
        List<String> texts = new ArrayList<>();
        try {
            Path list = aptDir.resolve("sources.list");
            if (Files.isRegularFile(list)) {
                texts.add(Files.readString(list));
            }
            Path dir = aptDir.resolve("sources.list.d");
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.sorted().toList()) {
                        String name = f.getFileName().toString();
                        if (name.endsWith(".list") || name.endsWith(".sources")) {
                            texts.add(Files.readString(f));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new ImageBuildException("cannot read apt sources in " + aptDir + ": " + e.getMessage(), e);
        }
        for (String text : texts) {
            Optional<AptSource> found = parseOneLine(text, suite).or(() -> parseDeb822(text, suite));
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new ImageBuildException("no apt source in " + aptDir + " offers \"" + suite
                + " main\" (add one, e.g. to sources.list.d/debian.sources, then retry)");
    }

    static Optional<AptSource> parseOneLine(String text, String suite) {
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (!line.startsWith("deb ")) {
                continue;
            }
            List<String> words = new ArrayList<>(Arrays.asList(line.substring(4).strip().split("\\s+")));
            Optional<String> keyring = Optional.empty();
            if (!words.isEmpty() && words.get(0).startsWith("[")) {
                StringBuilder options = new StringBuilder();
                while (!words.isEmpty()) {
                    String w = words.remove(0);
                    options.append(w).append(' ');
                    if (w.endsWith("]")) {
                        break;
                    }
                }
                for (String opt : options.toString().replaceAll("[\\[\\]]", " ").strip().split("\\s+")) {
                    if (opt.startsWith("signed-by=")) {
                        keyring = Optional.of(opt.substring("signed-by=".length()));
                    }
                }
            }
            if (words.size() >= 3 && words.get(1).equals(suite) && words.subList(2, words.size()).contains("main")) {
                return Optional.of(new AptSource(words.get(0), keyring));
            }
        }
        return Optional.empty();
    }

    static Optional<AptSource> parseDeb822(String text, String suite) {
        for (String stanza : text.split("\n\\s*\n")) {
            String types = field(stanza, "Types");
            String uris = field(stanza, "URIs");
            List<String> suites = List.of(field(stanza, "Suites").split("\\s+"));
            List<String> components = List.of(field(stanza, "Components").split("\\s+"));
            if (List.of(types.split("\\s+")).contains("deb") && !uris.isBlank()
                    && suites.contains(suite) && components.contains("main")
                    && !field(stanza, "Enabled").equalsIgnoreCase("no")) {
                String keyring = field(stanza, "Signed-By");
                return Optional.of(new AptSource(uris.split("\\s+")[0],
                        keyring.isBlank() || keyring.contains("\n") ? Optional.empty() : Optional.of(keyring)));
            }
        }
        return Optional.empty();
    }

    private static String field(String stanza, String name) {
        for (String line : stanza.split("\n")) {
            if (!line.startsWith("#") && line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return "";
    }
}
