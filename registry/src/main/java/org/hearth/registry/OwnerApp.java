package org.hearth.registry;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The owner app's files (src/main/resources/owner-app): the pairing journey a phone opens from the
 * box's QR code, installable as a PWA. Only its own scripts run (a strict CSP, no inline script), the
 * QR images the box sends come as data: URLs, and no page is framed or sends a Referer.
 */
final class OwnerApp {

    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/pair", "index.html",
            "/app.css", "app.css",
            "/app.js", "app.js",
            "/pairing.js", "pairing.js",
            "/sw.js", "sw.js",
            "/manifest.webmanifest", "manifest.webmanifest",
            "/icon.svg", "icon.svg");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "webmanifest", "application/manifest+json",
            "svg", "image/svg+xml");
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";

    private final Map<String, byte[]> content = new java.util.HashMap<>();

    OwnerApp() {
        for (String file : FILES.values()) {
            try (InputStream in = OwnerApp.class.getResourceAsStream("/owner-app/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("owner-app/" + file + " is missing from the registry's jar");
                }
                content.put(file, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    boolean serve(Request request, Response response, Callback callback) {
        String file = FILES.get(request.getHttpURI().getPath());
        if (file == null || !(request.getMethod().equals("GET") || request.getMethod().equals("HEAD"))) {
            Response.writeError(request, response, callback, 404);
            return true;
        }
        var headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, TYPES.get(file.substring(file.lastIndexOf('.') + 1)));
        headers.put("Content-Security-Policy", CSP);
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("Cross-Origin-Opener-Policy", "same-origin");
        // The pages change with the registry's version; always asked again (the service worker keeps its own copy offline).
        headers.put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.setStatus(200);
        response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(content.get(file)),
                callback);
        return true;
    }
}
