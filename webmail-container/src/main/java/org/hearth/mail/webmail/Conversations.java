package org.hearth.mail.webmail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which messages belong to one conversation: those joined, directly or through others, by the ids
 * they carry — their own Message-ID and every id their In-Reply-To and References name (RFC 5322
 * §3.6.4). A reply whose client dropped References still joins its parent through In-Reply-To, and a
 * message missing from the window (deleted, in another folder) still joins its siblings through the
 * ids they both name. As Gmail does, messages so joined stay apart when their subjects differ (past
 * "Re:", "Fwd:" and their kin): a stranger's message that names the owner's ids in its References
 * cannot slip into one of their conversations under another subject. The store has no THREAD
 * extension, so the webmail does this for the messages it shows.
 */
final class Conversations {

    private static final Pattern ID = Pattern.compile("<([^<>\\s]{1,250})>");
    /** What mail clients put before a subject they answer or pass on, in English and its neighbours. */
    private static final Pattern PREFIX = Pattern.compile("^\\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|antw)(?:\\[\\d+])?\\s*:\\s*)+",
            Pattern.CASE_INSENSITIVE);

    /** What one message names: its own id (may be empty), the ids it answers or follows, its subject. */
    record Ids(String messageId, List<String> related, String subject) {
    }

    private Conversations() {
    }

    /** The ids ("<local@domain>") in a Message-ID, In-Reply-To or References field, in order. */
    static List<String> ids(String field) {
        List<String> out = new ArrayList<>();
        if (field != null) {
            Matcher m = ID.matcher(field);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /**
     * The messages grouped into conversations, as indexes into {@code messages}: groups in the order
     * of their first message, each group's indexes in the messages' order.
     */
    static List<List<Integer>> group(List<Ids> messages) {
        Map<String, String> parent = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            // Messages and ids are nodes of two kinds: "#3" is the fourth message, "<a@b>" an id; no id
            // a sender writes can name a message node.
            String self = "#" + i;
            Ids m = messages.get(i);
            if (!m.messageId().isEmpty()) {
                union(parent, self, "<" + m.messageId() + ">");
            }
            for (String id : m.related()) {
                union(parent, self, "<" + id + ">");
            }
        }
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            String key = find(parent, "#" + i) + "\n" + baseSubject(messages.get(i).subject());
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
        }
        return new ArrayList<>(groups.values());
    }

    /** The subject without its "Re:"/"Fwd:" prefixes, case and spacing, for comparing. */
    static String baseSubject(String subject) {
        String s = subject == null ? "" : subject;
        return PREFIX.matcher(s).replaceFirst("").strip().replaceAll("\\s+", " ").toLowerCase(java.util.Locale.ROOT);
    }

    private static String find(Map<String, String> parent, String x) {
        String root = x;
        while (parent.containsKey(root)) {
            root = parent.get(root);
        }
        // Every node on the way now points at the root, so later finds are short.
        while (!x.equals(root)) {
            String next = parent.get(x);
            parent.put(x, root);
            x = next;
        }
        return root;
    }

    private static void union(Map<String, String> parent, String a, String b) {
        String ra = find(parent, a);
        String rb = find(parent, b);
        if (!ra.equals(rb)) {
            parent.put(rb, ra);
        }
    }
}
