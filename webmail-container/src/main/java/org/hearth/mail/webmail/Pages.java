package org.hearth.mail.webmail;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The webmail's pages, written on the server: every value from a message or a user goes through
 * {@link #text}, no page has an inline script or style (the Content-Security-Policy forbids both),
 * and every form that changes something carries the session's token.
 */
final class Pages {

    private static final DateTimeFormatter SAME_DAY = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT);
    private static final DateTimeFormatter OTHER_DAY = DateTimeFormatter.ofPattern("d MMM", Locale.ROOT);
    private static final DateTimeFormatter FULL = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm", Locale.ROOT);

    private Pages() {
    }

    /** Escapes text for HTML element content and quoted attribute values. */
    static String text(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                case '\r' -> {
                    // Line ends are the text's "\n"; a lone CR shows as nothing.
                }
                default -> {
                    // Control characters (a sender's bidi tricks included) have no place in a list.
                    if (c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
                        b.append('\uFFFD');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    static String url(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String folderUrl(String folder) {
        return "/mail/" + url(folder);
    }

    static String messageUrl(String folder, long uid) {
        return folderUrl(folder) + "/" + uid;
    }

    private static String head(String title) {
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<meta name=\"color-scheme\" content=\"light dark\">"
                + "<title>" + text(title) + " · Hearth Mail</title>"
                + "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/app.css\"><script src=\"/static/app.js\" defer></script></head>";
    }

    static String login(String formToken, Optional<String> error, String user) {
        return head("Log in") + "<body class=\"login\"><main class=\"card\">"
                + "<h1>Hearth Mail</h1>"
                + error.map(e -> "<p class=\"error\" role=\"alert\">" + text(e) + "</p>").orElse("")
                + "<form method=\"post\" action=\"/login\">"
                + "<input type=\"hidden\" name=\"csrf\" value=\"" + text(formToken) + "\">"
                + "<label for=\"user\">Address</label>"
                + "<input id=\"user\" name=\"user\" type=\"email\" autocomplete=\"username\" required autofocus value=\"" + text(user) + "\">"
                + "<label for=\"password\">Password</label>"
                + "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
                + "<button type=\"submit\">Log in</button></form></main></body></html>";
    }

    /** The frame around every page after login: folders (a drawer on a phone) and the session's controls. */
    private static String frame(OwnerSession s, List<ImapMailbox.FolderInfo> folders, String current, String title, String main) {
        StringBuilder nav = new StringBuilder("<nav id=\"folders\" aria-label=\"Folders\"><ul>");
        for (ImapMailbox.FolderInfo f : folders) {
            boolean here = f.name().equals(current);
            nav.append("<li><a href=\"").append(folderUrl(f.name())).append("\"")
                    .append(here ? " aria-current=\"page\"" : "").append("><span>").append(text(f.name())).append("</span>");
            if (f.unread() > 0) {
                nav.append("<span class=\"unread\" aria-label=\"").append(f.unread()).append(" unread\">").append(f.unread()).append("</span>");
            }
            nav.append("</a></li>");
        }
        nav.append("</ul></nav>");
        return head(title) + "<body><header class=\"bar\">"
                + "<a class=\"menu\" href=\"#folders\" aria-label=\"Folders\">☰</a>"
                + "<a class=\"brand\" href=\"/mail/INBOX\">Hearth Mail</a>"
                + "<a class=\"button primary\" href=\"/compose\">Write</a>"
                + "<form method=\"post\" action=\"/logout\" class=\"inline\">" + token(s)
                + "<button type=\"submit\" class=\"quiet\" title=\"Log out " + text(s.user()) + "\">Log out</button></form>"
                + "</header><div class=\"layout\">" + nav + "<main id=\"main\">" + main + "</main></div>"
                + "<footer><span>" + text(s.user()) + "</span>"
                + "<form method=\"post\" action=\"/logout-everywhere\" class=\"inline\">" + token(s)
                + "<button type=\"submit\" class=\"quiet\">Log out everywhere</button></form></footer></body></html>";
    }

    private static String token(OwnerSession s) {
        return "<input type=\"hidden\" name=\"csrf\" value=\"" + text(s.formToken()) + "\">";
    }

    static String mailbox(OwnerSession s, List<ImapMailbox.FolderInfo> folders, ImapMailbox.Page page,
                          Optional<String> query, Optional<String> notice) {
        String folder = page.folder();
        StringBuilder m = new StringBuilder();
        m.append("<h1>").append(text(folder)).append("</h1>");
        notice.ifPresent(n -> m.append("<p class=\"notice\" role=\"status\">").append(text(n)).append("</p>"));
        m.append("<form method=\"get\" action=\"").append(folderUrl(folder)).append("\" class=\"search\" role=\"search\">")
                .append("<label for=\"q\" class=\"hidden\">Search ").append(text(folder)).append("</label>")
                .append("<input id=\"q\" name=\"q\" type=\"search\" placeholder=\"Search subject, sender, text\" value=\"")
                .append(text(query.orElse(""))).append("\"><button type=\"submit\">Search</button></form>");
        m.append("<form method=\"post\" action=\"").append(folderUrl(folder)).append("/act\" id=\"list\">").append(token(s));
        m.append(actions(folders, folder, true));
        if (page.conversations().isEmpty()) {
            m.append("<p class=\"empty\">").append(query.isPresent() ? "Nothing matches." : "No messages.").append("</p>");
        }
        // The newest page of a folder, unsearched, follows new mail as it arrives (app.js).
        boolean live = page.number() == 1 && query.isEmpty() && folder.equals("INBOX");
        m.append("<ul class=\"messages\"").append(live ? " data-live" : "").append(">");
        // A conversation is one row: its newest message, and how many of its messages this page holds.
        for (ImapMailbox.Conversation c : page.conversations()) {
            ImapMailbox.Summary sum = c.newest();
            int count = c.messages().size();
            String uids = String.join(",", c.messages().stream().map(x -> String.valueOf(x.uid())).toList());
            m.append("<li class=\"").append(c.seen() ? "seen" : "unseen").append(c.flagged() ? " flagged" : "").append("\">")
                    .append("<input type=\"checkbox\" name=\"uid\" value=\"").append(uids).append("\" id=\"m").append(sum.uid())
                    .append("\" aria-label=\"Select: ").append(text(sum.subject())).append(count > 1 ? " (" + count + " messages)" : "")
                    .append("\">")
                    .append("<a href=\"").append(messageUrl(folder, sum.uid())).append("\">")
                    .append("<span class=\"from\">").append(text(sum.from()))
                    .append(count > 1 ? "<span class=\"count\" aria-label=\"" + count + " messages\">" + count + "</span>" : "")
                    .append("</span>")
                    .append("<time>").append(text(shortDate(sum.date()))).append("</time>")
                    .append("<span class=\"subject\">").append(sum.subject().isBlank() ? "(no subject)" : text(sum.subject()))
                    .append("</span>").append(c.seen() ? "" : "<span class=\"hidden\">unread</span>")
                    .append("</a></li>");
        }
        m.append("</ul></form>");
        if (page.pages() > 1) {
            m.append("<nav class=\"pages\" aria-label=\"Pages\">");
            String q = query.map(x -> "&q=" + url(x)).orElse("");
            if (page.number() > 1) {
                m.append("<a href=\"").append(folderUrl(folder)).append("?page=").append(page.number() - 1).append(q).append("\">Newer</a>");
            }
            m.append("<span>").append(page.number()).append(" / ").append(page.pages()).append("</span>");
            if (page.number() < page.pages()) {
                m.append("<a href=\"").append(folderUrl(folder)).append("?page=").append(page.number() + 1).append(q).append("\">Older</a>");
            }
            m.append("</nav>");
        }
        return frame(s, folders, folder, folder, m.toString());
    }

    /** The buttons that act on the selected messages (or, on a message's page, on that one). */
    private static String actions(List<ImapMailbox.FolderInfo> folders, String folder, boolean many) {
        Optional<ImapMailbox.Role> role = folders.stream().filter(f -> f.name().equals(folder)).findFirst().flatMap(ImapMailbox.FolderInfo::role);
        StringBuilder b = new StringBuilder("<div class=\"actions\" role=\"toolbar\" aria-label=\"")
                .append(many ? "Selected messages" : "This message").append("\">");
        if (role.equals(Optional.of(ImapMailbox.Role.JUNK))) {
            b.append(button("notspam", "Not spam"));
        } else {
            b.append(button("spam", "Spam"));
        }
        if (!role.equals(Optional.of(ImapMailbox.Role.ARCHIVE))) {
            b.append(button("archive", "Archive"));
        }
        b.append(button("delete", role.equals(Optional.of(ImapMailbox.Role.TRASH)) ? "Delete for good" : "Delete"));
        // The rarer actions fold away, so a phone shows one row of buttons.
        b.append("<details class=\"more\"><summary>More</summary><div class=\"actions\">");
        b.append(button("read", "Mark read")).append(button("unread", "Mark unread"))
                .append(button("flag", "Flag")).append(button("unflag", "Unflag"));
        b.append("<label for=\"move-to").append(many ? "" : "-one").append("\" class=\"hidden\">Move to folder</label>")
                .append("<select name=\"to\" id=\"move-to").append(many ? "" : "-one").append("\"><option value=\"\">Move to…</option>");
        for (ImapMailbox.FolderInfo f : folders) {
            if (!f.name().equals(folder)) {
                b.append("<option value=\"").append(text(f.name())).append("\">").append(text(f.name())).append("</option>");
            }
        }
        b.append("</select>").append(button("move", "Move")).append("</div></details></div>");
        return b.toString();
    }

    private static String button(String action, String label) {
        return "<button type=\"submit\" name=\"action\" value=\"" + action + "\">" + label + "</button>";
    }

    static String message(OwnerSession s, List<ImapMailbox.FolderInfo> folders, MessageView v,
                          ImapMailbox.Conversation conversation, Optional<String> notice, int blockedRemote, boolean remoteAllowed) {
        boolean isDrafts = folders.stream().anyMatch(f -> f.name().equals(v.folder()) && f.role().equals(Optional.of(ImapMailbox.Role.DRAFTS)));
        String here = messageUrl(v.folder(), v.uid());
        StringBuilder m = new StringBuilder();
        m.append("<p class=\"back\"><a href=\"").append(folderUrl(v.folder())).append("\">← ").append(text(v.folder())).append("</a></p>");
        notice.ifPresent(n -> m.append("<p class=\"notice\" role=\"status\">").append(text(n)).append("</p>"));
        m.append("<article class=\"message\"><h1>").append(v.subject().isBlank() ? "(no subject)" : text(v.subject())).append("</h1>");
        m.append("<dl class=\"fields\"><dt>From</dt><dd>").append(text(v.from())).append("</dd>");
        if (!v.to().isEmpty()) {
            m.append("<dt>To</dt><dd>").append(text(v.to())).append("</dd>");
        }
        if (!v.cc().isEmpty()) {
            m.append("<dt>Cc</dt><dd>").append(text(v.cc())).append("</dd>");
        }
        v.date().ifPresent(d -> m.append("<dt>Date</dt><dd>").append(text(FULL.format(d.toInstant().atZone(ZoneId.systemDefault())))).append("</dd>"));
        m.append("</dl>");
        if (conversation.messages().size() > 1) {
            // Oldest first, as a conversation is read; this message named, not linked.
            m.append("<details class=\"conversation\"><summary>").append(conversation.messages().size())
                    .append(" messages in this conversation</summary><ol>");
            for (int i = conversation.messages().size() - 1; i >= 0; i--) {
                ImapMailbox.Summary x = conversation.messages().get(i);
                boolean self = x.uid() == v.uid() && x.folder().equals(v.folder());
                String line = "<span class=\"from\">" + text(x.from()) + "</span> <time>" + text(shortDate(x.date()))
                        + "</time>" + (x.folder().equals(v.folder()) ? "" : " <span class=\"meta\">" + text(x.folder()) + "</span>");
                m.append("<li>").append(self ? "<span aria-current=\"page\">" + line + "</span>"
                        : "<a href=\"" + messageUrl(x.folder(), x.uid()) + "\">" + line + "</a>").append("</li>");
            }
            m.append("</ol></details>");
        }
        m.append("<nav class=\"reply\" aria-label=\"Reply\">");
        if (isDrafts) {
            m.append("<a class=\"button primary\" href=\"/compose?mode=draft&amp;folder=").append(url(v.folder())).append("&amp;uid=").append(v.uid()).append("\">Go on writing</a>");
        }
        m.append("")
                .append("<a class=\"button\" href=\"/compose?mode=reply&amp;folder=").append(url(v.folder())).append("&amp;uid=").append(v.uid()).append("\">Reply</a>")
                .append("<a class=\"button\" href=\"/compose?mode=all&amp;folder=").append(url(v.folder())).append("&amp;uid=").append(v.uid()).append("\">Reply all</a>")
                .append("<a class=\"button\" href=\"/compose?mode=forward&amp;folder=").append(url(v.folder())).append("&amp;uid=").append(v.uid()).append("\">Forward</a>")
                .append("<a class=\"button\" href=\"/compose?mode=attach&amp;folder=").append(url(v.folder())).append("&amp;uid=").append(v.uid()).append("\">Forward as attachment</a>")
                .append("</nav>");
        m.append("<form method=\"post\" action=\"").append(folderUrl(v.folder())).append("/act\">").append(token(s))
                .append("<input type=\"hidden\" name=\"uid\" value=\"").append(v.uid()).append("\">")
                .append("<input type=\"hidden\" name=\"from-message\" value=\"1\">")
                .append(actions(folders, v.folder(), false)).append("</form>");
        if (blockedRemote > 0 && !remoteAllowed) {
            m.append("<div class=\"notice\"><p>Remote images are hidden to protect your privacy.</p>")
                    .append("<a class=\"button\" href=\"").append(here).append("?remote=1\">Show them for this message</a>");
            if (!v.fromAddress().isEmpty()) {
                m.append("<form method=\"post\" action=\"").append(here).append("/allow-sender\" class=\"inline\">").append(token(s))
                        .append("<button type=\"submit\">Always show from ").append(text(v.fromAddress())).append("</button></form>");
            }
            m.append("</div>");
        }
        if (v.body() instanceof MessageView.Body.Text t) {
            m.append("<div class=\"plain\">").append(text(t.text())).append("</div>");
        } else {
            // The sender's HTML lives in a sandboxed frame of its own: no script, no same-origin access.
            m.append("<iframe class=\"html\" title=\"Message text\" sandbox=\"allow-popups allow-popups-to-escape-sandbox\" referrerpolicy=\"no-referrer\" src=\"")
                    .append(here).append("/body").append(remoteAllowed ? "?remote=1" : "").append("\"></iframe>");
        }
        if (!v.attachments().isEmpty()) {
            m.append("<h2>Attachments</h2><ul class=\"attachments\">");
            for (MessageView.Attachment a : v.attachments()) {
                m.append("<li><a href=\"").append(here).append("/part/").append(a.part()).append("\" download>")
                        .append(text(a.name())).append("</a> <span class=\"meta\">").append(text(a.type())).append(", ")
                        .append(text(size(a.size()))).append("</span></li>");
            }
            m.append("</ul>");
        }
        m.append("</article>");
        return frame(s, folders, v.folder(), v.subject().isBlank() ? "(no subject)" : v.subject(), m.toString());
    }

    /** The document inside a message's frame: only the sanitised HTML, styled plainly. */
    static String messageBody(String cleanHtml) {
        return "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">"
                + "<style>body{font:15px/1.45 system-ui,sans-serif;margin:8px;color:#111;background:#fff;overflow-wrap:anywhere}"
                + "img{max-width:100%;height:auto}table{max-width:100%}</style></head><body>" + cleanHtml + "</body></html>";
    }

    /** What a compose form holds: kept whole when sending fails, so nothing written is lost. */
    record Draft(String from, String to, String cc, String bcc, String subject, String text, String inReplyTo,
                 String references, String forwardOf, String draftUid) {
        static Draft empty(String from) {
            return new Draft(from, "", "", "", "", "", "", "", "", "");
        }
    }

    static String compose(OwnerSession s, List<ImapMailbox.FolderInfo> folders, Draft d, Optional<String> error) {
        StringBuilder m = new StringBuilder("<h1>Write</h1>");
        error.ifPresent(e -> m.append("<p class=\"error\" role=\"alert\">").append(text(e)).append("</p>"));
        m.append("<form method=\"post\" action=\"/send\" enctype=\"multipart/form-data\" class=\"compose\">").append(token(s))
                .append("<input type=\"hidden\" name=\"in-reply-to\" value=\"").append(text(d.inReplyTo())).append("\">")
                .append("<input type=\"hidden\" name=\"references\" value=\"").append(text(d.references())).append("\">")
                .append("<input type=\"hidden\" name=\"forward-of\" value=\"").append(text(d.forwardOf())).append("\">")
                // The copy in Drafts this form last saved (app.js saves while the owner writes); replaced at each save.
                .append("<input type=\"hidden\" name=\"draft-uid\" value=\"").append(text(d.draftUid())).append("\">");
        m.append("<label for=\"from\">From</label><select id=\"from\" name=\"from\">");
        for (String a : s.addresses()) {
            m.append("<option").append(a.equals(d.from()) ? " selected" : "").append(">").append(text(a)).append("</option>");
        }
        m.append("</select>");
        m.append(field("to", "To", d.to(), true)).append(field("cc", "Cc", d.cc(), false)).append(field("bcc", "Bcc", d.bcc(), false));
        m.append("<label for=\"subject\">Subject</label><input id=\"subject\" name=\"subject\" value=\"").append(text(d.subject())).append("\">");
        if (!d.forwardOf().isEmpty()) {
            m.append("<p class=\"meta\">The original message goes with it as an attachment.</p>");
        }
        m.append("<label for=\"text\">Message</label><textarea id=\"text\" name=\"text\" rows=\"14\">").append(text(d.text())).append("</textarea>");
        m.append("<label for=\"files\">Attachments</label><input id=\"files\" name=\"files\" type=\"file\" multiple>");
        m.append("<div class=\"actions\"><button type=\"submit\" class=\"primary\" name=\"action\" value=\"send\">Send</button>")
                .append("<button type=\"submit\" name=\"action\" value=\"draft\">Save draft</button>")
                .append("<span id=\"draft-status\" class=\"meta\" role=\"status\"></span></div></form>");
        return frame(s, folders, "", "Write", m.toString());
    }

    private static String field(String name, String label, String value, boolean required) {
        return "<label for=\"" + name + "\">" + label + "</label><input id=\"" + name + "\" name=\"" + name
                + "\" type=\"text\" inputmode=\"email\" autocomplete=\"email\"" + (required ? " required" : "")
                + " value=\"" + text(value) + "\">";
    }

    static String problem(String title, String detail) {
        return head(title) + "<body class=\"login\"><main class=\"card\"><h1>" + text(title) + "</h1><p>" + text(detail)
                + "</p><p><a href=\"/\">Back to your mail</a></p></main></body></html>";
    }

    private static String shortDate(Date d) {
        if (d == null) {
            return "";
        }
        ZonedDateTime t = d.toInstant().atZone(ZoneId.systemDefault());
        return t.toLocalDate().equals(ZonedDateTime.now(ZoneId.systemDefault()).toLocalDate()) ? SAME_DAY.format(t) : OTHER_DAY.format(t);
    }

    private static String size(int bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        return bytes < 1024 * 1024 ? (bytes / 1024) + " KB" : String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }
}
