package org.hearth.registry;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which subdomains the registry hands out under its zone. A name is one DNS label of 3 to 32
 * lower-case letters, digits and inner hyphens; not an IDN's ACE form ("xn--"), nor any label with
 * hyphens in its third and fourth places (RFC 5891 §4.2.3.1 keeps those for future encodings); and
 * not a name the zone needs for itself or that mail and the web read as an authority
 * (postmaster, mta-sts, autoconfig...).
 */
final class NamePolicy {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]");
    private static final Set<String> RESERVED = Set.of(
            // The zone's own servers and services.
            "www", "ns", "ns1", "ns2", "ns3", "dns", "mx", "mail", "smtp", "imap", "pop", "pop3", "webmail",
            "registry", "api", "app", "pair", "pairing", "acme", "status", "admin", "root", "hearth",
            // What mail and the web treat as the domain's own addresses and policies.
            "autoconfig", "autodiscover", "mta-sts", "abuse", "postmaster", "hostmaster", "webmaster", "security",
            "noc", "support", "help", "info", "localhost", "local", "test", "example", "invalid");

    private NamePolicy() {
    }

    /** Why {@code name} cannot be had; empty if it may (taken or not). */
    static Optional<String> refusal(String name) {
        if (name == null || name.isEmpty()) {
            return Optional.of("a name is needed");
        }
        if (!name.equals(name.toLowerCase(Locale.ROOT))) {
            return Optional.of("use lower-case letters");
        }
        if (name.length() < 3 || name.length() > 32) {
            return Optional.of("a name has 3 to 32 characters");
        }
        if (!LABEL.matcher(name).matches()) {
            return Optional.of("use letters a-z, digits and hyphens, not at the start or the end");
        }
        if (name.length() >= 4 && name.charAt(2) == '-' && name.charAt(3) == '-') {
            return Optional.of("hyphens in the third and fourth places are kept for encoded names");
        }
        if (RESERVED.contains(name)) {
            return Optional.of("\"" + name + "\" is reserved");
        }
        return Optional.empty();
    }
}
