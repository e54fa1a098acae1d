package org.hearth.core.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Where a catalog's files come from: a folder (development, offline bundles) or an HTTPS URL. */
sealed interface CatalogSource permits CatalogSource.Folder, CatalogSource.Https {

    /** The file at {@code path} below the catalog's root, or empty when the catalog has none; more than {@code limit} bytes is an error. */
    Optional<InputStream> open(String path) throws CatalogException;

    String describe();

    default Optional<byte[]> read(String path, long limit) throws CatalogException {
        Optional<InputStream> in = open(path);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream s = in.get()) {
            byte[] bytes = s.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (bytes.length > limit) {
                throw new CatalogException(path + " from " + describe() + " is larger than " + limit + " bytes");
            }
            return Optional.of(bytes);
        } catch (IOException e) {
            throw new CatalogException("cannot read " + path + " from " + describe() + ": " + e.getMessage(), e);
        }
    }

    default byte[] require(String path, long limit) throws CatalogException {
        return read(path, limit).orElseThrow(() -> new CatalogException(describe() + " has no " + path));
    }

    /** Copies the file to {@code out}, refusing it once it passes {@code limit} bytes. */
    default long copy(String path, long limit, OutputStream out) throws CatalogException {
        InputStream in = open(path).orElseThrow(() -> new CatalogException(describe() + " has no " + path));
        try (in) {
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw new CatalogException(path + " from " + describe() + " is larger than the " + limit
                            + " bytes the index says it has");
                }
                out.write(buffer, 0, n);
            }
            return total;
        } catch (IOException e) {
            throw new CatalogException("cannot read " + path + " from " + describe() + ": " + e.getMessage(), e);
        }
    }

    record Folder(Path root) implements CatalogSource {
        @Override
        public Optional<InputStream> open(String path) throws CatalogException {
            Path file = root.resolve(path).normalize();
            if (!file.startsWith(root.normalize())) {
                throw new CatalogException(path + " is outside the catalog " + root);
            }
            try {
                return Optional.of(Files.newInputStream(file));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (IOException e) {
                throw new CatalogException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String describe() {
            return root.toString();
        }
    }

    record Https(URI base, HttpClient client) implements CatalogSource {
        static final Duration TIMEOUT = Duration.ofSeconds(30);

        @Override
        public Optional<InputStream> open(String path) throws CatalogException {
            URI uri = URI.create(base.toString().replaceAll("/+$", "") + "/" + path);
            HttpResponse<InputStream> response;
            try {
                response = client.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new CatalogException("cannot fetch " + uri + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CatalogException("interrupted fetching " + uri, e);
            }
            if (response.statusCode() == 404) {
                closeQuietly(response.body());
                return Optional.empty();
            }
            if (response.statusCode() != 200) {
                closeQuietly(response.body());
                throw new CatalogException(uri + " answered HTTP " + response.statusCode());
            }
            return Optional.of(response.body());
        }

        @Override
        public String describe() {
            return base.toString();
        }

        private static void closeQuietly(InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the answer was already judged by its status
            }
        }
    }
}
