package org.hearth.mail.webmail;

import org.jsoup.Jsoup;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** The compose form a reply, a reply to all or a forward starts from, as mail clients have long made them. */
final class Replies {

    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("EEE, d MMM yyyy 'at' HH:mm", Locale.ROOT);

    private Replies() {
    }

    static Pages.Draft draft(String mode, String folder, long uid, MessageView v, OwnerSession s, String from) {
        String text = v.body() instanceof MessageView.Body.Html h ? Jsoup.parse(h.html()).wholeText().strip()
                : ((MessageView.Body.Text) v.body()).text().strip();
        String when = v.date().map(d -> WHEN.format(d.toInstant().atZone(ZoneId.systemDefault()))).orElse("");
        // Answer from the address the message came to, when it is one of the owner's.
        String own = s.addresses().stream().filter(a -> (v.to() + "," + v.cc()).toLowerCase(Locale.ROOT).contains(a))
                .findFirst().orElse(from);
        String references = (v.references().orElse("") + " " + v.messageId().orElse("")).strip();
        return switch (mode) {
            case "reply", "all" -> {
                String to = v.replyTo().orElse(v.from());
                String cc = "";
                if (mode.equals("all")) {
                    Set<String> others = new LinkedHashSet<>();
                    for (String a : (v.to() + "," + v.cc()).split(",")) {
                        String t = a.strip();
                        if (!t.isEmpty() && s.addresses().stream().noneMatch(x -> t.toLowerCase(Locale.ROOT).contains(x))
                                && !to.contains(t)) {
                            others.add(t);
                        }
                    }
                    cc = String.join(", ", others);
                }
                String quoted = text.lines().map(l -> l.startsWith(">") ? ">" + l : "> " + l).collect(Collectors.joining("\n"));
                yield new Pages.Draft(own, to, cc, "", prefixed("Re: ", v.subject()),
                        "\n\nOn " + when + ", " + v.from() + " wrote:\n" + quoted + "\n", v.messageId().orElse(""), references, "", "");
            }
            case "forward" -> new Pages.Draft(own, "", "", "", prefixed("Fwd: ", v.subject()),
                    "\n\n---------- Forwarded message ----------\nFrom: " + v.from() + "\nDate: " + when + "\nSubject: "
                            + v.subject() + "\nTo: " + v.to() + "\n\n" + text + "\n", "", "", "", "");
            case "attach" -> new Pages.Draft(own, "", "", "", prefixed("Fwd: ", v.subject()), "", "", "", folder + "/" + uid, "");
            // A saved draft, to go on writing: its fields as they were; saving again replaces it, unless it
            // holds attachments, which the form cannot carry: then that copy stays in Drafts beside the new one.
            case "draft" -> new Pages.Draft(s.addresses().contains(bare(v.from())) ? bare(v.from()) : from, v.to(), v.cc(),
                    v.bcc(), v.subject(), text, v.inReplyTo().orElse(""), v.references().orElse(""), "",
                    v.attachments().isEmpty() ? String.valueOf(uid) : "");
            default -> Pages.Draft.empty(from);
        };
    }

    /** The address alone, from "Name <address>". */
    private static String bare(String address) {
        int lt = address.lastIndexOf('<');
        return (lt >= 0 ? address.substring(lt + 1, address.indexOf('>', lt) < 0 ? address.length() : address.indexOf('>', lt)) : address)
                .strip().toLowerCase(Locale.ROOT);
    }

    private static String prefixed(String prefix, String subject) {
        return subject.regionMatches(true, 0, prefix, 0, prefix.length()) ? subject : prefix + subject;
    }
}
