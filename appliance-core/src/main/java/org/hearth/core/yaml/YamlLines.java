package org.hearth.core.yaml;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Line numbers of the places in a YAML document, by path ({@code containers}, {@code smtp-in},
 * {@code ports}, {@code 0}, {@code exposure}). Data binders report where their parser stopped,
 * which for nested or polymorphic values is often not where the mistake is; errors for people
 * should point at the key they wrote.
 */
public final class YamlLines {

    private final Node root;

    private YamlLines(Node root) {
        this.root = root;
    }

    /** Composes {@code text}; a document that does not even parse yields no lines. */
    public static YamlLines of(String text) {
        try {
            Node node = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(text));
            return new YamlLines(node);
        } catch (RuntimeException e) {
            return new YamlLines(null);
        }
    }

    /**
     * The 1-based line of the deepest node on {@code path} that exists: the key's line for a
     * mapping entry, the item's line for a sequence element.
     */
    public OptionalInt lineOf(List<String> path) {
        Node node = root;
        int line = root == null ? -1 : root.getStartMark().getLine();
        for (String step : path) {
            if (node instanceof MappingNode mapping) {
                NodeTuple found = null;
                for (NodeTuple tuple : mapping.getValue()) {
                    if (tuple.getKeyNode() instanceof ScalarNode key && key.getValue().equals(step)) {
                        found = tuple;
                        break;
                    }
                }
                if (found == null) {
                    break;
                }
                line = found.getKeyNode().getStartMark().getLine();
                node = found.getValueNode();
            } else if (node instanceof SequenceNode sequence && step.matches("\\d+")
                    && Integer.parseInt(step) < sequence.getValue().size()) {
                node = sequence.getValue().get(Integer.parseInt(step));
                line = node.getStartMark().getLine();
            } else {
                break;
            }
        }
        return line < 0 ? OptionalInt.empty() : OptionalInt.of(line + 1);
    }

    /**
     * A binding error as a person wants it: {@code FILE:LINE: field.path: what is wrong}, with the
     * line of the key that was written rather than where the parser stopped.
     */
    public static String describe(Path file, String text, JsonProcessingException e) {
        List<String> path = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        if (e instanceof JsonMappingException mapping) {
            for (JsonMappingException.Reference ref : mapping.getPath()) {
                if (ref.getFieldName() != null) {
                    path.add(ref.getFieldName());
                    field.append(field.length() == 0 ? "" : ".").append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    path.add(Integer.toString(ref.getIndex()));
                    field.append('[').append(ref.getIndex()).append(']');
                }
            }
            if (e instanceof InvalidTypeIdException typeId) {
                path.add(typeId.getTypeId() == null ? "" : "kind");
                field.append(field.length() == 0 ? "" : ".").append("kind");
            }
        }
        OptionalInt line = of(text).lineOf(path);
        if (line.isEmpty() || path.isEmpty()) {
            line = e.getLocation() == null ? OptionalInt.empty() : OptionalInt.of(e.getLocation().getLineNr());
        }
        String message = e.getOriginalMessage().replaceAll("\\s*\\(class [^)]*\\)", "");
        return file + (line.isPresent() ? ":" + line.getAsInt() : "") + ": "
                + (field.length() == 0 ? "" : field + ": ") + message;
    }
}
