package org.hearth.registry;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.hearth.registry.protocol.OwnerAppFiles;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;

/**
 * The owner app's pairing half (registry-protocol's {@link OwnerAppFiles}): the journey a phone
 * opens from the box's QR code, installable as a PWA.
 */
final class OwnerApp {

    private final OwnerAppFiles files = new OwnerAppFiles(Map.of(
            "/", "index.html",
            "/pair", "index.html",
            "/app.css", "app.css",
            "/app.js", "app.js",
            "/pairing.js", "pairing.js",
            "/settings.js", "settings.js",
            "/sw.js", "sw.js",
            "/manifest.webmanifest", "manifest.webmanifest",
            "/icon.svg", "icon.svg"));

    boolean serve(Request request, Response response, Callback callback) {
        Optional<String> file = files.file(request.getHttpURI().getPath());
        if (file.isEmpty() || !(request.getMethod().equals("GET") || request.getMethod().equals("HEAD"))) {
            Response.writeError(request, response, callback, 404);
            return true;
        }
        OwnerAppFiles.headers(file.get()).forEach(response.getHeaders()::put);
        response.setStatus(200);
        response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0)
                : ByteBuffer.wrap(files.content(file.get())), callback);
        return true;
    }
}
