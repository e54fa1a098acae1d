package org.hearth.mail.webmail;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.safety.Cleaner;
import org.jsoup.safety.Safelist;

import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A sender's HTML made safe to show: jsoup keeps only a list of harmless elements and attributes
 * (no script, no event handler, no form, no frame, no link to a style sheet), and this class then
 * decides every load the rest would make. Inline images ({@code cid:}) point at the message's own
 * parts; remote images and CSS {@code url(...)} are removed unless the owner allowed them for this
 * message, so opening a message tells no tracker that it was read. The page serving the result
 * adds a Content-Security-Policy that would block the same loads again, and a sandboxed frame.
 */
final class SafeHtml {

    /** What came out, and how many remote loads were held back (the page offers to show them). */
    record Result(String html, int blockedRemote) {
    }

    private static final Pattern CSS_URL = Pattern.compile("url\\s*\\(", Pattern.CASE_INSENSITIVE);
    private static final Pattern CSS_IMPORT = Pattern.compile("@import|expression\\s*\\(|behavior\\s*:|-moz-binding",
            Pattern.CASE_INSENSITIVE);

    private static final Safelist SAFELIST = Safelist.relaxed()
            .addTags("center", "font", "hr", "s", "strike", "tt", "address")
            .addAttributes(":all", "style", "align", "valign", "bgcolor", "width", "height", "dir", "title")
            .addAttributes("table", "border", "cellpadding", "cellspacing")
            .addAttributes("font", "color", "face", "size")
            .addAttributes("td", "nowrap", "background")
            .addProtocols("img", "src", "http", "https", "cid", "data")
            .addProtocols("a", "href", "http", "https", "mailto")
            .preserveRelativeLinks(false);

    private SafeHtml() {
    }

    /**
     * @param html        the sender's HTML
     * @param inlinePart  a {@code cid:} reference's URL among the message's own parts (null: not there)
     * @param allowRemote whether the owner allowed this message's remote images
     */
    static Result clean(String html, Function<String, String> inlinePart, boolean allowRemote) {
        Document dirty = Jsoup.parse(html);
        Document clean = new Cleaner(SAFELIST).clean(dirty);
        int blocked = 0;
        for (Element img : clean.select("img[src]")) {
            String src = img.attr("src").strip();
            String lower = src.toLowerCase(Locale.ROOT);
            if (lower.startsWith("cid:")) {
                String url = inlinePart.apply(src.substring(4));
                if (url == null) {
                    img.removeAttr("src");
                } else {
                    img.attr("src", url);
                }
            } else if (lower.startsWith("data:")) {
                if (!lower.matches("data:image/(png|gif|jpeg|webp);base64,.*")) {
                    img.removeAttr("src");
                }
            } else if (!allowRemote) {
                img.removeAttr("src");
                img.attr("alt", img.attr("alt").isEmpty() ? "[remote image]" : img.attr("alt"));
                blocked++;
            }
        }
        for (Element e : clean.select("[background]")) {
            e.removeAttr("background");
            blocked++;
        }
        for (Element e : clean.select("[style]")) {
            String style = e.attr("style");
            if (CSS_IMPORT.matcher(style).find() || (!allowRemote && CSS_URL.matcher(style).find())) {
                e.removeAttr("style");
                blocked++;
            }
        }
        for (Element a : clean.select("a[href]")) {
            a.attr("target", "_blank");
            a.attr("rel", "noopener noreferrer");
        }
        clean.outputSettings().prettyPrint(false);
        return new Result(clean.body().html(), blocked);
    }

    /** The same for a map of content ids to URLs. */
    static Result clean(String html, Map<String, String> inlineUrls, boolean allowRemote) {
        return clean(html, inlineUrls::get, allowRemote);
    }
}
