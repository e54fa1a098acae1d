package org.hearth.core.manifest;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a manifest's environment may take from the box it runs on: {@code ${box.domain}}, the box's
 * name (NAME.ZONE once paired through a registry; {@link #UNPAIRED} before, the demo's name). The
 * mail app names its hosts after it ({@code mx.${box.domain}}), so pairing renames them and the
 * supervisor recreates its containers with the new name. And {@code ${listen.CONTAINER.PORT}}, the
 * port on the box's side where that port of the app's is reached (its {@code listen}): what the app
 * tells clients (DNS SRV records, autoconfig) stays true wherever the manifest puts its listeners.
 */
public final class BoxName {

    public static final String DOMAIN = "${box.domain}";
    public static final String UNPAIRED = "demo.hearth.test";
    static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");
    /** {@code ${listen.CONTAINER.PORT}}: the names as the manifest's own ({@code [a-z][a-z0-9-]*}). */
    static final Pattern LISTEN = Pattern.compile("\\$\\{listen\\.([a-z][a-z0-9-]*)\\.([a-z][a-z0-9-]*)}");
    private static final Pattern HOST_UNDER_DOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\." + Pattern.quote(DOMAIN));

    private BoxName() {
    }

    /**
     * Why {@code value} cannot be expanded (a placeholder other than {@link #DOMAIN} or a {@code
     * listen} of one of {@code listens}, CONTAINER.PORT of the manifest's ports with a listen), or null.
     */
    static String problem(String value, java.util.Set<String> listens) {
        Matcher m = PLACEHOLDER.matcher(value);
        while (m.find()) {
            Matcher listen = LISTEN.matcher(m.group());
            if (listen.matches()) {
                String port = listen.group(1) + "." + listen.group(2);
                if (!listens.contains(port)) {
                    return m.group() + ": no port " + port + " of this manifest has a listen (those that do: "
                            + String.join(", ", new java.util.TreeSet<>(listens)) + ")";
                }
            } else if (!m.group().equals(DOMAIN)) {
                return "unknown placeholder " + m.group() + " (there are " + DOMAIN + " and ${listen.CONTAINER.PORT})";
            }
        }
        return PLACEHOLDER.matcher(value).replaceAll("").contains("${") ? "an unclosed ${" : null;
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

    /** The environment with {@link #DOMAIN} replaced by {@code domain} and each {@code ${listen...}} by {@code manifest}'s port. */
    public static Map<String, String> expand(Map<String, String> environment, String domain, AppManifest manifest) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        environment.forEach((k, v) -> out.put(k, LISTEN.matcher(v.replace(DOMAIN, domain)).replaceAll(m ->
                String.valueOf(manifest.containers().get(m.group(1)).ports().stream().filter(p -> p.name().equals(m.group(2)))
                        .findFirst().orElseThrow().listen().orElseThrow()))));
        return out;
    }
}
