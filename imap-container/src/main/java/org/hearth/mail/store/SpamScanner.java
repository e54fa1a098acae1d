package org.hearth.mail.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client of SpamAssassin's spamd (the SPAMC/1.5 protocol's SYMBOLS command): it asks for the
 * verdict and the rules that fired, never for a rewritten message, so mail is stored as it came.
 */
final class SpamScanner {

    /** What spamd decided. */
    record Verdict(boolean spam, double score, double required, List<String> rules) {
    }

    private static final Pattern SPAM_LINE = Pattern.compile("Spam: (True|False) ; (-?[0-9.]+) / (-?[0-9.]+)");

    private final InetSocketAddress address;
    private final int timeoutMillis;

    SpamScanner(InetSocketAddress address, int timeoutMillis) {
        this.address = address;
        this.timeoutMillis = timeoutMillis;
    }

    /** Scans {@code message}; any failure (down, timeout, garbled answer) is an IOException. */
    Verdict scan(byte[] message) throws IOException {
        try (Socket s = new Socket()) {
            // Resolved per message: a recreated scanner has a new address.
            s.connect(new InetSocketAddress(address.getHostString(), address.getPort()), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(("SYMBOLS SPAMC/1.5\r\nContent-length: " + message.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(message);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            in.transferTo(reply);
            return parse(reply.toString(StandardCharsets.US_ASCII));
        }
    }

    static Verdict parse(String reply) throws IOException {
        if (!reply.startsWith("SPAMD/") || !reply.split("\r\n", 2)[0].endsWith(" 0 EX_OK")) {
            throw new IOException("spamd refused the message: " + reply.split("\r\n", 2)[0]);
        }
        Matcher m = SPAM_LINE.matcher(reply);
        if (!m.find()) {
            throw new IOException("spamd's answer has no verdict");
        }
        int body = reply.indexOf("\r\n\r\n");
        String symbols = body < 0 ? "" : reply.substring(body + 4).strip();
        return new Verdict(m.group(1).equals("True"), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                symbols.isEmpty() ? List.of() : List.of(symbols.split(",")));
    }
}
