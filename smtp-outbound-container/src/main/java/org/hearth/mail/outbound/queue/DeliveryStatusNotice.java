package org.hearth.mail.outbound.queue;

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

    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
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

    private static byte[] report(Envelope e, List<Envelope.Recipient> recipients, byte[] original, String hostname,
                                 Instant now, String subject, String human, String action, Instant willRetryUntil) {
        String boundary = "hearth-dsn-" + UUID.randomUUID();
        StringBuilder m = new StringBuilder()
                .append("From: Mail Delivery System <MAILER-DAEMON@").append(hostname).append(">\r\n")
                .append("To: <").append(e.sender()).append(">\r\n")
                .append("Subject: ").append(subject).append("\r\n")
                .append("Date: ").append(DATE.format(now)).append("\r\n")
                .append("Message-ID: <").append(UUID.randomUUID()).append("@").append(hostname).append(">\r\n")
                // RFC 3834: automatic, so that auto-responders do not answer it.
                .append("Auto-Submitted: auto-replied\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"").append(boundary).append("\"\r\n")
                .append("\r\n")
                .append("--").append(boundary).append("\r\n")
                .append("Content-Type: text/plain; charset=utf-8\r\n\r\n")
                .append(human).append("\r\n")
                .append("--").append(boundary).append("\r\n")
                .append("Content-Type: message/delivery-status\r\n\r\n")
                .append("Reporting-MTA: dns; ").append(hostname).append("\r\n")
                .append("Arrival-Date: ").append(DATE.format(e.created())).append("\r\n");
        for (Envelope.Recipient r : recipients) {
            m.append("\r\n")
                    .append("Final-Recipient: rfc822; ").append(r.address()).append("\r\n")
                    .append("Action: ").append(action).append("\r\n")
                    .append("Status: ").append(status(r.lastReply(), action)).append("\r\n");
            if (SMTP_REPLY.matcher(r.lastReply()).matches()) {
                m.append("Diagnostic-Code: smtp; ").append(oneLine(r.lastReply())).append("\r\n");
            }
            m.append("Last-Attempt-Date: ").append(DATE.format(now)).append("\r\n");
            if (willRetryUntil != null) {
                m.append("Will-Retry-Until: ").append(DATE.format(willRetryUntil)).append("\r\n");
            }
        }
        m.append("\r\n--").append(boundary).append("\r\n")
                .append("Content-Type: text/rfc822-headers\r\n\r\n")
                .append(headersOf(original))
                .append("\r\n--").append(boundary).append("--\r\n");
        return m.toString().getBytes(StandardCharsets.UTF_8);
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

    /** The header block of the original message (up to the first empty line), CRLF-terminated. */
    private static String headersOf(byte[] original) {
        String text = new String(original, 0, Math.min(original.length, MAX_HEADERS), StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        String headers = end >= 0 ? text.substring(0, end + 2) : text;
        return headers.endsWith("\r\n") ? headers : headers + "\r\n";
    }

}
