package org.hearth.core.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renames the tags in a {@code docker save} archive as it streams through. Another architecture's
 * images are tagged here by its name ({@code hearth/mail-imap:arm64}); on the box they must load
 * under the tag its manifests run ({@code hearth/mail-imap:latest}). Tags are only names in the
 * archive's {@code manifest.json} and {@code repositories}: the images' IDs, digests of their
 * configuration, do not change.
 */
final class ArchiveTags {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ArchiveTags() {
    }

    /** @param renames a tag in the archive ({@code NAME:TAG}) to the tag it should load as */
    static void rename(InputStream save, OutputStream out, Map<String, String> renames) throws IOException {
        List<String> seen = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(save);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (TarArchiveEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                if (entry.isFile() && (entry.getName().equals("manifest.json") || entry.getName().equals("repositories"))) {
                    JsonNode doc = JSON.readTree(in.readAllBytes());
                    if (entry.getName().equals("manifest.json")) {
                        renameInManifest(doc, renames, seen);
                    } else {
                        renameInRepositories(doc, renames);
                    }
                    byte[] bytes = JSON.writeValueAsBytes(doc);
                    TarArchiveEntry rewritten = new TarArchiveEntry(entry.getName());
                    rewritten.setMode(entry.getMode());
                    rewritten.setModTime(entry.getModTime());
                    rewritten.setSize(bytes.length);
                    tar.putArchiveEntry(rewritten);
                    tar.write(bytes);
                } else {
                    tar.putArchiveEntry(entry);
                    if (entry.isFile()) {
                        in.transferTo(tar);
                    }
                }
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
        if (!seen.containsAll(renames.keySet())) {
            throw new IOException("the engine's archive does not hold " + renames.keySet().stream()
                    .filter(t -> !seen.contains(t)).toList() + " (it holds " + seen + ")");
        }
    }

    private static void renameInManifest(JsonNode manifest, Map<String, String> renames, List<String> seen) {
        for (JsonNode image : manifest) {
            if (image.get("RepoTags") instanceof ArrayNode tags) {
                for (int i = 0; i < tags.size(); i++) {
                    String tag = tags.get(i).asText();
                    seen.add(tag);
                    tags.set(i, renames.getOrDefault(tag, tag));
                }
            }
        }
    }

    private static void renameInRepositories(JsonNode repositories, Map<String, String> renames) {
        if (!(repositories instanceof ObjectNode repos)) {
            return;
        }
        for (Map.Entry<String, String> rename : renames.entrySet()) {
            String fromRepo = rename.getKey().substring(0, rename.getKey().lastIndexOf(':'));
            String fromTag = rename.getKey().substring(rename.getKey().lastIndexOf(':') + 1);
            String toRepo = rename.getValue().substring(0, rename.getValue().lastIndexOf(':'));
            String toTag = rename.getValue().substring(rename.getValue().lastIndexOf(':') + 1);
            if (repos.get(fromRepo) instanceof ObjectNode tags && tags.has(fromTag)) {
                JsonNode layer = tags.remove(fromTag);
                if (tags.isEmpty()) {
                    repos.remove(fromRepo);
                }
                ((ObjectNode) (repos.has(toRepo) ? repos.get(toRepo) : repos.putObject(toRepo))).set(toTag, layer);
            }
        }
    }
}
