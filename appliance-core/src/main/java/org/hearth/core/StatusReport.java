package org.hearth.core;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The facts a container reports for {@code hearth status}, on the port its manifest names in
 * {@code report} or a sandbox host's status port: one line of {@code key=value} pairs, values
 * percent-encoded (RFC 3986), at most {@value #MAX_LINE} bytes. It comes from inside an app, so it
 * is read as untrusted: bounded, keys checked, anything malformed dropped.
 */
public final class StatusReport {

    static final int MAX_LINE = 4096;
    private static final int MAX_PAIRS = 32;

    private StatusReport() {
    }

    /** The facts the port answers; empty if it does not answer in time. */
    public static Optional<Map<String, String>> read(InetSocketAddress port, Duration timeout) {
        try (Socket s = new Socket()) {
            s.connect(port, (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            return Optional.of(parse(readLine(s.getInputStream())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static Map<String, String> parse(String line) {
        Map<String, String> facts = new LinkedHashMap<>();
        for (String pair : line.strip().split(" ")) {
            String[] kv = pair.split("=", 2);
            if (kv.length != 2 || !kv[0].matches("[a-z0-9][a-z0-9.-]{0,79}") || facts.size() >= MAX_PAIRS) {
                continue;
            }
            try {
                String value = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
                // Shown in a terminal: no control characters from an app.
                facts.put(kv[0], value.replaceAll("\\p{Cntrl}", "?"));
            } catch (IllegalArgumentException malformed) {
                // dropped
            }
        }
        return facts;
    }

    private static String readLine(InputStream in) throws IOException {
        byte[] buf = new byte[MAX_LINE];
        int n = 0;
        for (int c; n < MAX_LINE && (c = in.read()) >= 0 && c != '\n'; ) {
            buf[n++] = (byte) c;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
