package org.hearth.mail.outbound.queue;

import org.hearth.mail.common.Smtputf8;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The notices a sender is owed (RFC 3464 delivery status notifications, in a multipart/report of
 * RFC 6522): a bounce when recipients failed for good, a delay notice when the rest is still being
 * tried. Each has a line for people, the machine-readable status per recipient, and the original
 * headers (not the body: the sender has it, and it may be large). They are sent with an empty
 * reverse path, so a notice that cannot be delivered is dropped, never bounced again.
 */
public final class DeliveryStatusNotice {

    /** RFC 5322 §3.3 with a numeric zone ("GMT" is obsolete syntax, §4.3). */
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", java.util.Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    /** A Diagnostic-Code is kept to this much of the remote's reply (which may be many long lines). */
    private static final int MAX_DIAGNOSTIC = 500;
    /** A reply's enhanced status code (RFC 3463), after its basic code: "550 5.1.1 ...". */
    private static final Pattern ENHANCED = Pattern.compile("^[245]\\d\\d[ -]([245]\\.\\d{1,3}\\.\\d{1,3})\\b");
    private static final Pattern SMTP_REPLY = Pattern.compile("^([245])\\d\\d\\b.*", Pattern.DOTALL);
    /** Original headers are returned up to this size; a notice should never be a large message. */
    private static final int MAX_HEADERS = 64 * 1024;

    private DeliveryStatusNotice() {
    }

    /** A bounce for recipients that failed for good. */
    public static byte[] bounce(Envelope e, List<Envelope.Recipient> failed, byte[] original, String hostname, Instant now) {
        String human = "This is the mail system at " + hostname + ".\r\n\r\n"
                + "Your message could not be delivered to " + (failed.size() == 1 ? "this recipient" : "these recipients")
                + ". It will not be tried again.\r\n\r\n" + lines(failed);
        return report(e, failed, original, hostname, now, "Undelivered Mail Returned to Sender", human, "failed", null);
    }

    /** A delay notice for recipients still being tried, with when Hearth will give up. */
    public static byte[] delay(Envelope e, List<Envelope.Recipient> pending, byte[] original, String hostname, Instant now,
                               Instant willRetryUntil) {
        String human = "This is the mail system at " + hostname + ".\r\n\r\n"
                + "Your message has not been delivered yet to " + (pending.size() == 1 ? "this recipient" : "these recipients")
                + ". It is still being tried, until " + DATE.format(willRetryUntil) + "; you need not send it again.\r\n\r\n"
                + lines(pending);
        return report(e, pending, original, hostname, now, "Delayed Mail (still being retried)", human, "delayed", willRetryUntil);
    }

    /** RFC 6533 §3's utf-8-addr-unitext: UTF-8 as it is, but a backslash, "+", "=" and controls as \\x{HEX}. */
    static String unitext(String address) {
        StringBuilder b = new StringBuilder();
        address.codePoints().forEach(c -> {
            if (c == '\\' || c == '+' || c == '=' || c < 0x20 || c == 0x7f) {
                b.append("\\x{").append(Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT)).append('}');
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    private static byte[] report(Envelope e, List<Envelope.Recipient> recipients, byte[] original, String hostname,
                                 Instant now, String subject, String human, String action, Instant willRetryUntil) {
        String boundary = "hearth-dsn-" + UUID.randomUUID();
        byte[] returned = headersOf(original);
        // RFC 6533: a report on non-ASCII addresses, or returning UTF-8 header fields, is a global one.
        boolean global = !Smtputf8.isAscii(e.sender()) || recipients.stream().anyMatch(r -> !Smtputf8.isAscii(r.address()))
                || Smtputf8.utf8Headers(returned);
        String reportType = global ? "global-delivery-status" : "delivery-status";
        StringBuilder m = new StringBuilder()
                .append("From: Mail Delivery System <MAILER-DAEMON@").append(hostname).append(">\r\n")
                .append("To: <").append(e.sender()).append(">\r\n")
                .append("Subject: ").append(subject).append("\r\n")
                .append("Date: ").append(DATE.format(now)).append("\r\n")
                .append("Message-ID: <").append(UUID.randomUUID()).append("@").append(hostname).append(">\r\n")
                // RFC 3834: automatic, so that auto-responders do not answer it.
                .append("Auto-Submitted: auto-replied\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("Content-Type: multipart/report; report-type=").append(reportType).append(";\r\n\tboundary=\"")
                .append(boundary).append("\"\r\n")
                .append("\r\n")
                .append("--").append(boundary).append("\r\n")
                .append("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
                .append(human).append("\r\n")
                .append("--").append(boundary).append("\r\n")
                .append("Content-Type: message/").append(reportType).append("\r\n")
                .append(global ? "Content-Transfer-Encoding: 8bit\r\n\r\n" : "\r\n")
                .append("Reporting-MTA: dns; ").append(hostname).append("\r\n")
                .append("Arrival-Date: ").append(DATE.format(e.created())).append("\r\n");
        for (Envelope.Recipient r : recipients) {
            m.append("\r\n")
                    .append("Final-Recipient: ")
                    .append(Smtputf8.isAscii(r.address()) ? "rfc822; " + r.address() : "utf-8; " + unitext(r.address()))
                    .append("\r\n")
                    .append("Action: ").append(action).append("\r\n")
                    .append("Status: ").append(status(r.lastReply(), action)).append("\r\n");
            if (SMTP_REPLY.matcher(r.lastReply()).matches()) {
                // message/delivery-status is US-ASCII (RFC 3464 §2.1.3): the reply is cut and made ASCII.
                String diagnostic = ascii(oneLine(r.lastReply()));
                m.append("Diagnostic-Code: smtp; ")
                        .append(diagnostic.length() > MAX_DIAGNOSTIC ? diagnostic.substring(0, MAX_DIAGNOSTIC) + "..." : diagnostic)
                        .append("\r\n");
            }
            m.append("Last-Attempt-Date: ").append(DATE.format(now)).append("\r\n");
            if (willRetryUntil != null) {
                m.append("Will-Retry-Until: ").append(DATE.format(willRetryUntil)).append("\r\n");
            }
        }
        m.append("\r\n--").append(boundary).append("\r\n")
                // The original's headers go back byte for byte, whatever their encoding.
                .append("Content-Type: ").append(global ? "message/global-headers" : "text/rfc822-headers")
                .append("\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        byte[] head = m.toString().getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + returned.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(returned, 0, all, head.length, returned.length);
        System.arraycopy(tail, 0, all, head.length + returned.length, tail.length);
        return all;
    }

    /**
     * The RFC 3463 status: the reply's own enhanced code if it gave one, else its class with .0.0;
     * a message given up after its lifetime is 4.4.7 (delivery time expired); no reply at all (a
     * connection refused) is 4.4.1 while delayed and 5.4.1 when failed.
     */
    static String status(String reply, String action) {
        Matcher enhanced = ENHANCED.matcher(reply);
        if (enhanced.find()) {
            return enhanced.group(1);
        }
        if (reply.startsWith("gave up after")) {
            Matcher last = ENHANCED.matcher(reply.replaceFirst("^.*last reply: ", ""));
            return last.find() && last.group(1).startsWith("5") ? last.group(1) : "4.4.7";
        }
        Matcher basic = SMTP_REPLY.matcher(reply);
        if (basic.matches()) {
            return basic.group(1) + ".0.0";
        }
        return action.equals("failed") ? "5.4.1" : "4.4.1";
    }

    private static String lines(List<Envelope.Recipient> recipients) {
        StringBuilder b = new StringBuilder();
        for (Envelope.Recipient r : recipients) {
            b.append("<").append(r.address()).append(">: ").append(oneLine(r.lastReply())).append("\r\n");
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n]+", " ").strip();
    }

    /** The header block of the original message (up to the first empty line), as bytes, CRLF-terminated. */
    private static byte[] headersOf(byte[] original) {
        int n = Math.min(original.length, MAX_HEADERS);
        int end = n;
        for (int i = 0; i + 3 < n; i++) {
            if (original[i] == '\r' && original[i + 1] == '\n' && original[i + 2] == '\r' && original[i + 3] == '\n') {
                end = i + 2;
                break;
            }
        }
        boolean terminated = end >= 2 && original[end - 2] == '\r' && original[end - 1] == '\n';
        byte[] out = java.util.Arrays.copyOf(original, terminated ? end : end + 2);
        if (!terminated) {
            out[end] = '\r';
            out[end + 1] = '\n';
        }
        return out;
    }

    private static String ascii(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

}
