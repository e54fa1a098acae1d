package org.hearth.core.supervisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an app set aside for its owner: a container that cannot process an item (the mail store, a
 * message that keeps failing delivery) keeps it on its volume under {@code quarantine/}, one
 * {@code ID.json} describing each, and the supervisor shows them in status. The JSON is written
 * by a container and read as untrusted input: size-capped, scalars only, control characters removed.
 */
final class QuarantineShelf {

    static final String FOLDER = "quarantine";
    private static final Logger LOG = LoggerFactory.getLogger(QuarantineShelf.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_ITEM_BYTES = 64 << 10;
    private static final int MAX_ITEMS = 50;
    private static final int MAX_FIELD_CHARS = 200;

    private QuarantineShelf() {
    }

    /** The items in {@code dataFolder}/quarantine, newest first; none when the folder is absent. */
    static List<SupervisorStatus.Quarantined> read(String volume, Path dataFolder) {
        Path folder = dataFolder.resolve(FOLDER);
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        List<SupervisorStatus.Quarantined> items = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.json")) {
            for (Path file : files) {
                if (Files.isRegularFile(file) && Files.size(file) <= MAX_ITEM_BYTES) {
                    items.add(item(volume, file));
                }
            }
        } catch (IOException e) {
            LOG.warn("volume={} event=quarantine-unreadable error={}", volume, e.getMessage());
        }
        items.sort(Comparator.comparing(SupervisorStatus.Quarantined::at).reversed());
        return items.size() > MAX_ITEMS ? List.copyOf(items.subList(0, MAX_ITEMS)) : items;
    }

    private static SupervisorStatus.Quarantined item(String volume, Path file) throws IOException {
        String name = file.getFileName().toString();
        String id = name.substring(0, name.length() - ".json".length());
        Map<String, String> details = new LinkedHashMap<>();
        String at = "";
        try {
            JsonNode node = JSON.readTree(file.toFile());
            for (var it = node.fields(); it.hasNext(); ) {
                var field = it.next();
                if (field.getValue().isValueNode() && !field.getValue().isNull()) {
                    details.put(clean(field.getKey()), clean(field.getValue().asText()));
                }
            }
            at = details.getOrDefault("quarantinedAt", "");
            details.keySet().removeAll(List.of("id", "version", "quarantinedAt"));
        } catch (IOException e) {
            details.put("unreadable", clean(e.getMessage()));
        }
        return new SupervisorStatus.Quarantined(volume, clean(id), at, details);
    }

    private static String clean(String text) {
        String s = text == null ? "" : text.replaceAll("\\p{Cntrl}", "?");
        return s.length() > MAX_FIELD_CHARS ? s.substring(0, MAX_FIELD_CHARS) + "…" : s;
    }
}
