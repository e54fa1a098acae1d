package org.hearth.core.catalog;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Version numbers as manifests write them ({@code 1.2.3}, optionally {@code -suffix}), ordered by their numbers. */
public record Versions(int major, int minor, int patch, String suffix) implements Comparable<Versions> {

    private static final Pattern FORM = Pattern.compile("(\\d{1,6})\\.(\\d{1,6})\\.(\\d{1,6})(-[0-9A-Za-z.-]+)?");

    public static Versions parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("version \"" + text + "\" is not of the form 1.2.3 or 1.2.3-suffix");
        }
        return new Versions(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                m.group(4) == null ? "" : m.group(4).substring(1));
    }

    /** A release before its final (1.2.3-rc1) sorts before it (1.2.3), as semantic versioning says. */
    @Override
    public int compareTo(Versions o) {
        int c = Integer.compare(major, o.major);
        c = c != 0 ? c : Integer.compare(minor, o.minor);
        c = c != 0 ? c : Integer.compare(patch, o.patch);
        if (c != 0 || suffix.equals(o.suffix)) {
            return c;
        }
        return suffix.isEmpty() ? 1 : o.suffix.isEmpty() ? -1 : suffix.compareTo(o.suffix);
    }

    /** Whether this Hearth meets a release's minimum; a development build (1.2.3-SNAPSHOT) counts as 1.2.3. */
    boolean meets(Versions minimum) {
        return new Versions(major, minor, patch, "").compareTo(new Versions(minimum.major, minimum.minor, minimum.patch, "")) >= 0;
    }
}
