package org.hearth.core.manifest;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a manifest's environment may take from the box it runs on: {@code ${box.domain}}, the box's
 * name (NAME.ZONE once paired through a registry; {@link #UNPAIRED} before, the demo's name). The
 * mail app names its hosts after it ({@code mx.${box.domain}}), so pairing renames them and the
 * supervisor recreates its containers with the new name.
 */
public final class BoxName {

    public static final String DOMAIN = "${box.domain}";
    public static final String UNPAIRED = "demo.hearth.test";
    static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");
    private static final Pattern HOST_UNDER_DOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\." + Pattern.quote(DOMAIN));

    private BoxName() {
    }

    /** Why {@code value} cannot be expanded (a placeholder other than {@link #DOMAIN}), or null. */
    static String problem(String value) {
        Matcher m = PLACEHOLDER.matcher(value);
        while (m.find()) {
            if (!m.group().equals(DOMAIN)) {
                return "unknown placeholder " + m.group() + " (the only one is " + DOMAIN + ")";
            }
        }
        return value.replace(DOMAIN, "").contains("${") ? "an unclosed ${ (the only placeholder is " + DOMAIN + ")" : null;
    }

    /**
     * Why {@code host} cannot name one of the box's hosts (a certificate's name): it must be {@link
     * #DOMAIN} or one DNS label before it, as {@code mail.${box.domain}}; or null.
     */
    static String hostProblem(String host) {
        if (host.equals(DOMAIN) || HOST_UNDER_DOMAIN.matcher(host).matches()) {
            return null;
        }
        return "\"" + host + "\" is not a host of the box: write " + DOMAIN + " or LABEL." + DOMAIN
                + " (LABEL letters, digits and inner hyphens), as mail." + DOMAIN;
    }

    /** {@code host} with {@link #DOMAIN} replaced by {@code domain}. */
    public static String expand(String host, String domain) {
        return host.replace(DOMAIN, domain);
    }

    /** The environment with {@link #DOMAIN} replaced by {@code domain}. */
    public static Map<String, String> expand(Map<String, String> environment, String domain) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        environment.forEach((k, v) -> out.put(k, v.replace(DOMAIN, domain)));
        return out;
    }
}
