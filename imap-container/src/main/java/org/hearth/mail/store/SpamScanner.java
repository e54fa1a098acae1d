package org.hearth.mail.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client of the scanner (spam-container), which speaks SpamAssassin's SPAMC/1.5 protocol: it asks
 * for the verdict and the rules that fired (SYMBOLS), never for a rewritten message, so mail is
 * stored as it came. Given the envelope sender, the scanner also checks who sent the message (SPF,
 * DKIM, DMARC) and answers that in two more reply headers; a message too large to scan for spam
 * is still sent whole for its DKIM signatures ({@code Spam-Check: no}).
 *
 * <p>Each request names the user first ({@code User:}): the scanner gives the scan that user's Bayes
 * database to read, and a learner ({@link #learn}, SPAMC's TELL) that user's database to write.
 */
final class SpamScanner {

    /** What spamd decided. */
    record Verdict(boolean spam, double score, double required, List<String> rules) {
    }

    /** What the sender's domain asks of mail that fails DMARC (RFC 7489 §6.3 p=). */
    enum Disposition { NONE, QUARANTINE, REJECT }

    /**
     * Who sent the message, as the scanner found.
     *
     * @param results the Authentication-Results clauses (RFC 8601), printable ASCII, "; " between them
     * @param fromDomain the From domain DMARC judged, for a rejection's text; empty if none
     */
    record SenderCheck(String results, Disposition disposition, String fromDomain) {
    }

    /** What SpamAssassin's auto-learning thresholds make of a scanned message. */
    enum Autolearn { NO, HAM, SPAM }

    /**
     * The scanner's answer: a verdict unless the message was too large to scan; the sender check if
     * asked; whether the message is clearly enough ham or spam to be learned.
     */
    record Reply(Optional<Verdict> verdict, Optional<SenderCheck> sender, Autolearn autolearn) {
    }

    private static final Pattern SPAM_LINE = Pattern.compile("Spam: (True|False) ; (-?[0-9.]+) / (-?[0-9.]+)");
    /** The scanner's sandbox read a stranger's message: what it says is held to plain, bounded text. */
    private static final Pattern RESULTS = Pattern.compile("[\\x20-\\x7e]{1,4000}");
    private static final Pattern FROM_DOMAIN = Pattern.compile("header\\.from=([A-Za-z0-9.-]{1,253})");

    private final InetSocketAddress address;
    private final int timeoutMillis;

    SpamScanner(InetSocketAddress address, int timeoutMillis) {
        this.address = address;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Scans {@code message} and checks its sender; any failure (down, timeout, garbled answer) is an IOException.
     *
     * @param envelopeFrom the MAIL FROM address to check the sender by ("" for a bounce); none: no sender check
     * @param spamCheck false for a message too large to scan: only its sender is checked
     */
    Reply scan(String user, byte[] message, Optional<String> envelopeFrom, boolean spamCheck) throws IOException {
        return parse(exchange("SYMBOLS", user, envelopeFrom.map(f -> "Envelope-From: <" + f + ">\r\n").orElse("")
                // UTF-8: an SMTPUTF8 sender's address goes as it came (the scanner reports its domain).
                + (spamCheck ? "" : "Spam-Check: no\r\n"), message), spamCheck);
    }

    /**
     * Teaches the user's Bayes database that {@code message} is spam (or ham); one learned before as
     * the other is moved over. Returns false when it was learned so already.
     */
    boolean learn(String user, byte[] message, boolean spam) throws IOException {
        String reply = exchange("TELL", user, "Message-class: " + (spam ? "spam" : "ham") + "\r\nSet: local\r\n", message);
        if (!reply.startsWith("SPAMD/") || !reply.split("\r\n", 2)[0].endsWith(" 0 EX_OK")) {
            throw new IOException("the learner refused the message: " + reply.split("\r\n", 2)[0]);
        }
        return reply.contains("\r\nDidSet: local\r\n");
    }

    private String exchange(String verb, String user, String headers, byte[] message) throws IOException {
        try (Socket s = new Socket()) {
            // Resolved per message: a recreated scanner has a new address.
            s.connect(new InetSocketAddress(address.getHostString(), address.getPort()), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            // The user first: the scanner reads it before the sandbox, to give it that user's database.
            out.write((verb + " SPAMC/1.5\r\nUser: " + user + "\r\nContent-length: " + message.length + "\r\n" + headers
                    + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.write(message);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            in.transferTo(reply);
            return reply.toString(StandardCharsets.UTF_8);
        }
    }

    static Reply parse(String reply, boolean spamCheck) throws IOException {
        if (!reply.startsWith("SPAMD/") || !reply.split("\r\n", 2)[0].endsWith(" 0 EX_OK")) {
            throw new IOException("spamd refused the message: " + reply.split("\r\n", 2)[0]);
        }
        int body = reply.indexOf("\r\n\r\n");
        String head = body < 0 ? reply : reply.substring(0, body);
        Optional<Verdict> verdict = Optional.empty();
        if (spamCheck) {
            Matcher m = SPAM_LINE.matcher(head);
            if (!m.find()) {
                throw new IOException("spamd's answer has no verdict");
            }
            String symbols = body < 0 ? "" : reply.substring(body + 4).strip();
            verdict = Optional.of(new Verdict(m.group(1).equals("True"), Double.parseDouble(m.group(2)),
                    Double.parseDouble(m.group(3)), symbols.isEmpty() ? List.of() : List.of(symbols.split(","))));
        }
        Autolearn autolearn = head.contains("\r\nAutolearn: ham") ? Autolearn.HAM
                : head.contains("\r\nAutolearn: spam") ? Autolearn.SPAM : Autolearn.NO;
        return new Reply(verdict, senderCheck(head), autolearn);
    }

    private static Optional<SenderCheck> senderCheck(String head) {
        String results = null;
        Disposition disposition = Disposition.NONE;
        for (String line : head.split("\r\n")) {
            if (line.startsWith("Authentication: ")) {
                results = line.substring("Authentication: ".length()).strip();
            } else if (line.startsWith("DMARC-Disposition: ")) {
                disposition = switch (line.substring("DMARC-Disposition: ".length()).strip().toLowerCase(Locale.ROOT)) {
                    case "reject" -> Disposition.REJECT;
                    case "quarantine" -> Disposition.QUARANTINE;
                    default -> Disposition.NONE;
                };
            }
        }
        if (results == null || !RESULTS.matcher(results).matches()) {
            return Optional.empty();
        }
        Matcher from = FROM_DOMAIN.matcher(results);
        return Optional.of(new SenderCheck(results, disposition, from.find() ? from.group(1) : ""));
    }
}
