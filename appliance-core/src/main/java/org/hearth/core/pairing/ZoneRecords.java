package org.hearth.core.pairing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Zone file lines (what {@code hearth mail dns DOMAIN} prints: {@code NAME. TTL IN TYPE DATA}) as the
 * registry's records: each owner relative to the box's name ({@code @} for the name itself). A line
 * for a name outside the box's is an error: the registry would refuse it, and it would mean the
 * mail app names hosts that are not the box's.
 */
final class ZoneRecords {

    private ZoneRecords() {
    }

    static List<Map<String, String>> of(String domain, List<String> lines) {
        String apex = domain.toLowerCase(Locale.ROOT) + ".";
        List<Map<String, String>> records = new ArrayList<>();
        for (String line : lines) {
            String text = line.strip();
            if (text.isEmpty() || text.startsWith(";")) {
                continue;
            }
            String[] f = text.split("\\s+", 5);
            if (f.length < 5 || !f[1].matches("[0-9]+") || !f[2].equals("IN")) {
                throw new IllegalArgumentException("not a zone line (NAME TTL IN TYPE DATA): " + line);
            }
            String name = f[0].toLowerCase(Locale.ROOT);
            String owner;
            if (name.equals(apex)) {
                owner = "@";
            } else if (name.endsWith("." + apex)) {
                owner = name.substring(0, name.length() - apex.length() - 1);
            } else {
                throw new IllegalArgumentException(f[0] + " is not under the box's name " + domain + ": " + line);
            }
            records.add(Map.of("owner", owner, "type", f[3], "data", f[4]));
        }
        return records;
    }
}
