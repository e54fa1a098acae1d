package org.hearth.core.overlay;

import java.util.Locale;
import java.util.regex.Pattern;

/** ZeroTier's identifiers: a network id is 16 hex digits, a node (member) address 10. */
final class ZeroTierIds {

    private static final Pattern NETWORK = Pattern.compile("[0-9a-fA-F]{16}");
    private static final Pattern NODE = Pattern.compile("[0-9a-fA-F]{10}");

    private ZeroTierIds() {
    }

    /** The id in lower case, as the daemon prints it, so ids compare as strings. */
    static String network(String field, String value) {
        if (value == null || !NETWORK.matcher(value).matches()) {
            throw new IllegalArgumentException(field + ": must be a 16-digit hex ZeroTier network id such as "
                    + "8056c2e21c000001, not \"" + value + "\"");
        }
        return value.toLowerCase(Locale.ROOT);
    }

    static String node(String field, String value) {
        if (value == null || !NODE.matcher(value).matches()) {
            throw new IllegalArgumentException(field + ": must be a 10-digit hex ZeroTier address such as "
                    + "8056c2e21c, not \"" + value + "\"");
        }
        return value.toLowerCase(Locale.ROOT);
    }

    static boolean isNode(String value) {
        return NODE.matcher(value).matches();
    }

    static boolean isNetwork(String value) {
        return NETWORK.matcher(value).matches();
    }
}
