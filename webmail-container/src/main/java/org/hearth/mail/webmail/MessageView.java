package org.hearth.mail.webmail;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParseException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the webmail shows of a message: its header fields, its readable text (HTML when the sender
 * gave one, else plain text), its attachments and the inline parts its HTML refers to by
 * {@code cid:}. Parts are named by their place in the MIME tree ("2.1"); only the text is read here,
 * attachments are fetched when asked for, so a large message opens as fast as a small one.
 */
record MessageView(long uid, String folder, String from, String fromAddress, String to, String cc, String bcc, String subject, Optional<Date> date,
                   Optional<String> messageId, Optional<String> inReplyTo, Optional<String> references, Optional<String> replyTo,
                   Body body, List<Attachment> attachments, Map<String, String> inlineByContentId, boolean flagged) {

    /** The readable text: sanitising HTML is the caller's work. */
    sealed interface Body {
        record Html(String html) implements Body {
        }

        record Text(String text) implements Body {
        }
    }

    record Attachment(String part, String name, String type, int size) {
    }

    /** A readable text longer than this is cut (a page of many megabytes helps no one on a phone). */
    static final int MAX_TEXT_CHARS = 1_000_000;

    static MessageView of(String folder, long uid, Message m) throws MessagingException, IOException {
        Walk walk = new Walk();
        walk.visit(m, "");
        String[] refs = m.getHeader("References");
        String[] ids = m.getHeader("Message-ID");
        String[] inReplyTo = m.getHeader("In-Reply-To");
        Optional<String> replyTo = m.getHeader("Reply-To") == null ? Optional.empty() : Optional.of(Addresses.full(m.getReplyTo()));
        String fromAddress = m.getFrom() != null && m.getFrom().length > 0 && m.getFrom()[0] instanceof jakarta.mail.internet.InternetAddress ia
                ? ia.getAddress().toLowerCase(java.util.Locale.ROOT) : "";
        return new MessageView(uid, folder, Addresses.full(m.getFrom()), fromAddress, Addresses.full(m.getRecipients(Message.RecipientType.TO)),
                Addresses.full(m.getRecipients(Message.RecipientType.CC)), Addresses.full(m.getRecipients(Message.RecipientType.BCC)),
                Optional.ofNullable(m.getSubject()).orElse(""),
                Optional.ofNullable(m.getSentDate()).or(() -> Optional.ofNullable(receivedDate(m))),
                Optional.ofNullable(ids).map(a -> a[0].strip()), Optional.ofNullable(inReplyTo).map(a -> a[0].strip()),
                Optional.ofNullable(refs).map(a -> a[0].strip()),
                replyTo,
                walk.body != null ? walk.body : new Body.Text(""), List.copyOf(walk.attachments),
                Map.copyOf(walk.inline), m.isSet(jakarta.mail.Flags.Flag.FLAGGED));
    }

    private static Date receivedDate(Message m) {
        try {
            return m.getReceivedDate();
        } catch (MessagingException e) {
            return null;
        }
    }

    /** The part at {@code path} ("" is the message itself), or empty when there is none. */
    static Optional<Part> part(Part root, String path) throws MessagingException, IOException {
        Part p = root;
        if (path.isEmpty()) {
            return Optional.of(p);
        }
        for (String step : path.split("\\.")) {
            if (!step.matches("[1-9][0-9]{0,3}") || !(p.getContent() instanceof Multipart mp)) {
                return Optional.empty();
            }
            int i = Integer.parseInt(step) - 1;
            if (i >= mp.getCount()) {
                return Optional.empty();
            }
            p = mp.getBodyPart(i);
        }
        return Optional.of(p);
    }

    /** A part's file name, decoded, without any folder a sender put in it; a made-up one if it has none. */
    static String fileName(Part p, String fallbackStem) throws MessagingException {
        String name = null;
        try {
            name = p.getFileName();
            if (name != null) {
                name = MimeUtility.decodeText(name);
            }
        } catch (java.io.UnsupportedEncodingException | ParseException e) {
            name = null;
        }
        if (name != null) {
            name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).strip();
        }
        if (name == null || name.isEmpty()) {
            String type = baseType(p);
            name = fallbackStem + (type.equals("message/rfc822") ? ".eml" : type.startsWith("text/") ? ".txt" : "");
        }
        return name;
    }

    static String baseType(Part p) throws MessagingException {
        try {
            return new ContentType(p.getContentType()).getBaseType().toLowerCase(Locale.ROOT);
        } catch (ParseException e) {
            return "application/octet-stream";
        }
    }

    /** Walks the MIME tree: the first readable text is the body, the rest attachments or inline parts. */
    private static final class Walk {
        Body body;
        final List<Attachment> attachments = new ArrayList<>();
        final Map<String, String> inline = new LinkedHashMap<>();

        void visit(Part p, String path) throws MessagingException, IOException {
            String type = baseType(p);
            boolean attachment = Part.ATTACHMENT.equalsIgnoreCase(disposition(p));
            if (type.startsWith("multipart/")) {
                Multipart mp = (Multipart) p.getContent();
                if (type.equals("multipart/alternative") && body == null) {
                    alternative(mp, path);
                    return;
                }
                for (int i = 0; i < mp.getCount(); i++) {
                    visit(mp.getBodyPart(i), child(path, i));
                }
                return;
            }
            if (body == null && !attachment && (type.equals("text/plain") || type.equals("text/html"))) {
                body = text(p, type);
                return;
            }
            String cid = contentId(p);
            if (cid != null && type.startsWith("image/")) {
                inline.put(cid, path);
                if (!attachment) {
                    return;
                }
            }
            attachments.add(new Attachment(path.isEmpty() ? "1" : path, fileName(p, "part-" + (path.isEmpty() ? "1" : path)), type,
                    Math.max(0, p.getSize())));
        }

        /** The richest alternative the webmail can show: HTML, else plain text; inline images of a related HTML too. */
        private void alternative(Multipart mp, String path) throws MessagingException, IOException {
            int chosen = -1;
            for (int i = 0; i < mp.getCount(); i++) {
                String t = baseType(mp.getBodyPart(i));
                if (t.equals("text/html") || t.equals("multipart/related")) {
                    chosen = i;
                } else if (t.equals("text/plain") && chosen < 0) {
                    chosen = i;
                }
            }
            if (chosen < 0) {
                for (int i = 0; i < mp.getCount(); i++) {
                    visit(mp.getBodyPart(i), child(path, i));
                }
                return;
            }
            visit(mp.getBodyPart(chosen), child(path, chosen));
        }

        private static String child(String path, int i) {
            return path.isEmpty() ? String.valueOf(i + 1) : path + "." + (i + 1);
        }
    }

    private static String disposition(Part p) {
        try {
            return p.getDisposition();
        } catch (MessagingException e) {
            return null;
        }
    }

    private static String contentId(Part p) throws MessagingException {
        String[] ids = p.getHeader("Content-ID");
        if (ids == null || ids.length == 0) {
            return null;
        }
        String id = ids[0].strip();
        return id.startsWith("<") && id.endsWith(">") ? id.substring(1, id.length() - 1) : id;
    }

    private static Body text(Part p, String type) throws MessagingException, IOException {
        Charset charset = StandardCharsets.UTF_8;
        try {
            String name = new ContentType(p.getContentType()).getParameter("charset");
            if (name != null) {
                charset = Charset.forName(MimeUtility.javaCharset(name.strip()));
            }
        } catch (ParseException | IllegalArgumentException e) {
            // An unknown or malformed charset: read it as UTF-8, replacing what does not decode.
        }
        String text;
        try (InputStream in = p.getInputStream()) {
            byte[] bytes = in.readNBytes(MAX_TEXT_CHARS * 4);
            text = new String(bytes, charset).replace("\r\n", "\n");
        }
        if (text.length() > MAX_TEXT_CHARS) {
            text = text.substring(0, MAX_TEXT_CHARS);
        }
        return type.equals("text/html") ? new Body.Html(text) : new Body.Text(text);
    }

    /** Whether {@code path} names one of this message's attachments or inline parts: the only parts served alone. */
    boolean servesPart(String path) {
        return attachments.stream().anyMatch(a -> a.part().equals(path)) || inlineByContentId.containsValue(path);
    }
}
