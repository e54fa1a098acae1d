package org.hearth.core.manifest;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.hearth.core.yaml.YamlLines;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads an app manifest and refuses anything Hearth could not enforce. Structure is checked
 * against the published schema ({@code app-manifest.schema.json}); meaning (edges, ports,
 * lifecycles, privileges) by {@link ManifestRules}. Every problem is reported at once, each with
 * file, line and field.
 */
public final class ManifestReader {

    public static final String SCHEMA_RESOURCE = "app-manifest.schema.json";

    private static final ObjectMapper YAML = new ObjectMapper(
            YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .registerModule(new Jdk8Module())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final JsonNode SCHEMA_JSON = loadSchema();
    private static final JsonSchema SCHEMA =
            JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(SCHEMA_JSON);

    /** Friendlier words for the schema's patterns, by the definition or property they belong to. */
    private static final Map<String, String> PATTERN_WORDS = Map.of(
            "name", "must be lower-case letters, digits and dashes, starting with a letter (at most 31)",
            "app", "must be lower-case letters, digits and dashes, starting with a letter (at most 31)",
            "image", "must be a Hearth image built on this machine (hearth/NAME[:TAG]): images are never pulled",
            "size", "must be a size such as 512KiB, 64MiB or 1GiB",
            "duration", "must be a duration such as 500ms, 2s or 1m",
            "version", "must be a version such as 1.2.3",
            "path", "must be an absolute path inside the container",
            "to", "must be \"internet\", \"resolver\" or one DNS name: wildcards are not allowed");

    private ManifestReader() {
    }

    public static AppManifest read(Path file) {
        try {
            return read(file.toString(), Files.readString(file));
        } catch (IOException e) {
            throw new ManifestException(List.of(new ManifestProblem(file.toString(), OptionalInt.empty(), "",
                    "cannot read: " + e.getMessage())));
        }
    }

    /** @param file the name used in problems, usually the path as the user gave it */
    public static AppManifest read(String file, String text) {
        JsonNode tree;
        try {
            tree = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw new ManifestException(List.of(new ManifestProblem(file,
                    at == null ? OptionalInt.empty() : OptionalInt.of(at.getLineNr()), "", e.getOriginalMessage())));
        }
        if (tree == null || !tree.isObject()) {
            throw new ManifestException(List.of(new ManifestProblem(file, OptionalInt.of(1), "",
                    "a manifest is a mapping with schema, app, version and containers")));
        }
        YamlLines lines = YamlLines.of(text);
        List<ManifestProblem> problems = new ArrayList<>();
        Locator at = (path, message) -> problems.add(ManifestProblem.at(file, lines, path, message));
        Set<List<String>> privileged = ManifestRules.privilegedKeys(tree, at);
        for (ValidationMessage m : SCHEMA.validate(tree)) {
            List<String> path = elements(m.getInstanceLocation());
            if (m.getProperty() != null && List.of("additionalProperties", "required", "propertyNames").contains(m.getType())) {
                path.add(m.getProperty());
            }
            if (!privileged.contains(path)) {
                at.report(path, describe(m));
            }
        }
        ManifestRules.check(tree, at);
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparingInt((ManifestProblem p) -> p.line().orElse(0)).thenComparing(ManifestProblem::field));
            throw new ManifestException(problems);
        }
        try {
            return YAML.treeToValue(tree, AppManifest.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a manifest that passed validation did not bind: " + e.getOriginalMessage(), e);
        }
    }

    /** Where a problem is: a path into the document and what is wrong there. */
    @FunctionalInterface
    interface Locator {
        void report(List<String> path, String message);
    }

    private static String describe(ValidationMessage m) {
        JsonNode value = m.getInstanceNode();
        List<String> schemaPath = elements(m.getSchemaLocation().getFragment());
        JsonNode keyword = SCHEMA_JSON.at(pointer(schemaPath));
        JsonNode owner = SCHEMA_JSON.at(pointer(schemaPath.subList(0, Math.max(0, schemaPath.size() - 1))));
        switch (m.getType()) {
            case "additionalProperties": {
                List<String> allowed = new ArrayList<>();
                owner.path("properties").fieldNames().forEachRemaining(allowed::add);
                return allowed.isEmpty() ? "unknown key" : "unknown key (allowed: " + String.join(", ", allowed) + ")";
            }
            case "required":
                return "required, but missing";
            case "propertyNames":
                return "\"" + m.getProperty() + "\" " + PATTERN_WORDS.get("name");
            case "enum": {
                List<String> allowed = new ArrayList<>();
                keyword.forEach(v -> allowed.add(v.asText()));
                return quote(value) + " is not one of " + String.join(", ", allowed);
            }
            case "const":
                return quote(value) + " is not supported: must be " + keyword.asText();
            case "type":
                return quote(value) + " must be " + article(keyword.asText());
            case "pattern": {
                String words = PATTERN_WORDS.get(patternOwner(schemaPath));
                return quote(value) + " " + (words == null ? "does not match " + keyword.asText() : words);
            }
            case "minimum":
            case "maximum":
                return quote(value) + " is out of range " + owner.path("minimum").asText("?") + ".." + owner.path("maximum").asText("?");
            case "minItems":
            case "minProperties":
            case "minLength":
                return "must not be empty";
            default:
                String text = m.getMessage();
                int colon = text.indexOf(": ");
                return colon > 0 && text.startsWith("$") ? text.substring(colon + 2) : text;
        }
    }

    /** The property or definition a pattern belongs to: ".../$defs/size/pattern" is "size". */
    private static String patternOwner(List<String> schemaPath) {
        if (schemaPath.size() >= 2) {
            String last = schemaPath.get(schemaPath.size() - 2);
            if (last.equals("propertyNames") && schemaPath.size() >= 3) {
                return "name";
            }
            return last;
        }
        return "";
    }

    private static String quote(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "value";
        }
        return value.isTextual() ? "\"" + value.asText() + "\"" : value.toString();
    }

    private static String article(String type) {
        return switch (type) {
            case "integer", "array", "object" -> "an " + type;
            default -> "a " + type;
        };
    }

    static List<String> elements(JsonNodePath path) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < path.getNameCount(); i++) {
            out.add(String.valueOf(path.getElement(i)));
        }
        return out;
    }

    private static String pointer(List<String> path) {
        return path.isEmpty() ? "" : "/" + path.stream().map(s -> s.replace("~", "~0").replace("/", "~1"))
                .collect(Collectors.joining("/"));
    }

    private static JsonNode loadSchema() {
        try (InputStream in = ManifestReader.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the build");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Iterator<Map.Entry<String, JsonNode>> fields(JsonNode node) {
        return node == null ? java.util.Collections.emptyIterator() : node.fields();
    }
}
