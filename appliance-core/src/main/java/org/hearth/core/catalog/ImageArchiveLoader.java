package org.hearth.core.catalog;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.LoadResponseItem;

import org.hearth.core.runtime.Engine;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Loads an image archive into the engine and reads the engine's answer to its end, within a limit
 * on the whole load (sending the archive included).
 * The engine answers 200 at once and then streams a line per image loaded; a broken image is an error
 * line in that stream, possibly after others loaded. docker-java's own ways miss both ends of it:
 * {@code loadImageCmd} returns at the first line (on a Pi, minutes before the load is done), and
 * {@code LoadImageCallback} keeps a success line over a later error.
 * A gzip-compressed archive (as catalogs publish them) is sent uncompressed: Docker's engine takes
 * either, Podman's (4.3) only a plain tar ("docker-archive: ... invalid tar header").
 */
public final class ImageArchiveLoader {

    private static final String PODMAN_LOCAL = "localhost/";
    private final DockerClient docker;
    private final Duration limit;

    public ImageArchiveLoader(DockerClient docker, Duration limit) {
        this.docker = docker;
        this.limit = limit;
    }

    /**
     * Loads {@code archive} (named {@code name} in errors) and returns the images the engine says it
     * loaded; fails with the engine's first error, when the limit passes (the connection is then
     * closed), or when interrupted.
     */
    public List<String> load(String name, InputStream archive) throws CatalogException {
        Answer answer = new Answer();
        Upload upload = new Upload(uncompressed(name, archive), System.nanoTime() + limit.toNanos());
        boolean ended;
        try {
            // awaitCompletion closes the engine's answer whatever happens, and rethrows a failed
            // connection's error; until the archive is sent there is no answer to close, so the
            // upload itself stops reading (docker-java sends it on a thread of its own).
            ended = docker.loadImageAsyncCmd(upload).exec(answer).awaitCompletion(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            upload.stop();
            Thread.currentThread().interrupt();
            throw new CatalogException(name + ": interrupted while the engine was loading it", e);
        } catch (RuntimeException e) {
            throw new CatalogException(name + ": the engine could not load it: " + engineMessage(e), e);
        }
        // Past the limit the archive may still be on its way: its next read fails, which ends the request.
        upload.stop();
        synchronized (answer) {
            String after = answer.loaded.isEmpty() ? "" : " (after loading " + String.join(", ", answer.loaded) + ")";
            if (answer.error != null) {
                throw new CatalogException(name + ": the engine could not load it: " + answer.error + after);
            }
            if (!ended) {
                throw new CatalogException(name + ": the engine had not finished loading it after " + limit.toSeconds()
                        + " s; stopped" + after);
            }
            return names(answer.loaded);
        }
    }

    /**
     * The engine's own words from a refusal: docker-java gives "Status 500: " and the engine's JSON
     * answer, whose "message" is what the engine said (Podman refuses a broken archive this way).
     */
    static String engineMessage(RuntimeException e) {
        String text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int json = text.indexOf('{');
        if (!(e instanceof DockerException) || json < 0) {
            return text;
        }
        try {
            JsonNode message = new ObjectMapper().readTree(text.substring(json)).get("message");
            return message != null && message.isTextual() ? message.asText() : text;
        } catch (JsonProcessingException notJson) {
            return text;
        }
    }

    /** The archive as a plain tar: read through gzip when it starts with gzip's magic bytes. */
    private static InputStream uncompressed(String name, InputStream archive) throws CatalogException {
        BufferedInputStream in = new BufferedInputStream(archive, 1 << 16);
        try {
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            return gzip ? new GZIPInputStream(in, 1 << 16) : in;
        } catch (IOException e) {
            throw new CatalogException(name + ": cannot read it: " + e.getMessage(), e);
        }
    }

    /**
     * The loaded images as Hearth names them. Podman answers one line for a whole archive ("Loaded
     * image: a,b") and puts an unqualified name under {@code localhost/}, where Docker keeps it as
     * the archive gives it; short names find the image on both engines.
     */
    private List<String> names(List<String> lines) {
        List<String> names = lines.stream().flatMap(l -> Arrays.stream(l.split(","))).map(String::strip)
                .filter(n -> !n.isEmpty()).toList();
        if (names.stream().noneMatch(n -> n.startsWith(PODMAN_LOCAL))
                || Engine.kindOf(docker.versionCmd().exec()) != Engine.Kind.PODMAN) {
            return names;
        }
        return names.stream().map(n -> n.startsWith(PODMAN_LOCAL) ? n.substring(PODMAN_LOCAL.length()) : n).toList();
    }

    /** The archive as docker-java sends it, which stops giving bytes once stopped or past the deadline. */
    private static final class Upload extends FilterInputStream {
        private final long deadline;
        private volatile boolean stopped;

        Upload(InputStream archive, long deadline) {
            super(archive);
            this.deadline = deadline;
        }

        void stop() {
            stopped = true;
        }

        private void check() throws IOException {
            if (stopped || System.nanoTime() - deadline > 0) {
                stopped = true;
                throw new IOException("the load was stopped (its limit passed, or it was interrupted)");
            }
        }

        @Override
        public int read() throws IOException {
            check();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            check();
            return super.read(b, off, len);
        }
    }

    /** The engine's lines, read on docker-java's thread: every image loaded, and the first error. */
    private static final class Answer extends ResultCallback.Adapter<LoadResponseItem> {
        private static final String LOADED = "Loaded image: ";
        private static final String LOADED_ID = "Loaded image ID: ";
        private final List<String> loaded = new ArrayList<>();
        private String error;

        @Override
        public synchronized void onNext(LoadResponseItem item) {
            if (item.isErrorIndicated()) {
                if (error == null) {
                    error = item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null
                            ? item.getErrorDetail().getMessage() : item.getError();
                }
                return;
            }
            String line = item.getStream() == null ? "" : item.getStream().strip();
            if (line.startsWith(LOADED_ID)) {
                loaded.add(line.substring(LOADED_ID.length()));
            } else if (line.startsWith(LOADED)) {
                loaded.add(line.substring(LOADED.length()));
            }
        }
    }
}
