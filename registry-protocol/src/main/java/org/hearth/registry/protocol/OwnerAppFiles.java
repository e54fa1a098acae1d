package org.hearth.registry.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The owner app's files (this jar's {@code owner-app/}): the registry serves the pairing half, the
 * box the half its owner uses afterwards over the overlay; both with the same headers. Only the
 * app's own scripts run (a strict CSP, no inline script), images the box sends come as data: URLs,
 * no page is framed or sends a Referer.
 */
public final class OwnerAppFiles {

    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "webmanifest", "application/manifest+json",
            "svg", "image/svg+xml");

    private final Map<String, String> paths;
    private final Map<String, byte[]> content = new HashMap<>();

    /** @param paths the files served, by the URL path each answers */
    public OwnerAppFiles(Map<String, String> paths) {
        this.paths = Map.copyOf(paths);
        for (String file : paths.values()) {
            try (InputStream in = OwnerAppFiles.class.getResourceAsStream("/owner-app/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("owner-app/" + file + " is missing from registry-protocol's jar");
                }
                content.put(file, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The file a path answers with, if any. */
    public java.util.Optional<String> file(String path) {
        return java.util.Optional.ofNullable(paths.get(path));
    }

    public byte[] content(String file) {
        return content.get(file);
    }

    /** The response headers for {@code file}: its type, the CSP and the rest. */
    public static Map<String, String> headers(String file) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", TYPES.get(file.substring(file.lastIndexOf('.') + 1)));
        headers.putAll(SECURITY_HEADERS);
        // The pages change with the version; always asked again (the service worker keeps its own copy offline).
        headers.put("Cache-Control", "no-cache");
        return headers;
    }

    /** For every answer, the API's too. */
    public static final Map<String, String> SECURITY_HEADERS = Map.of(
            "Content-Security-Policy", CSP,
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "Cross-Origin-Opener-Policy", "same-origin");
}
