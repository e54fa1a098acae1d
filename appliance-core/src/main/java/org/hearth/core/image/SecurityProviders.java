package org.hearth.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A jlink-ed runtime's {@code conf/security/java.security} keeps the JDK's whole list of security
 * providers, also those whose modules the runtime left out. When the JCA first walks the list (an
 * algorithm the first providers lack, or {@code Security.getProviders()}), each missing one is
 * looked for on the class path by instantiating every provider there: Bouncy Castle's whole JCA and
 * post-quantum providers, ≈ 600 classes and thousands of services held for nothing in services that
 * use only its lightweight API. So the runtime lists only the providers it has.
 */
final class SecurityProviders {

    /** The providers of JDK 17's Linux list that live outside java.base, and their modules. */
    private static final Map<String, String> MODULES = Map.of(
            "SunEC", "jdk.crypto.ec",
            "SunJGSS", "java.security.jgss",
            "SunSASL", "java.security.sasl",
            "XMLDSig", "java.xml.crypto",
            "SunPCSC", "java.smartcardio",
            "JdkLDAP", "java.naming",
            "JdkSASL", "jdk.security.jgss",
            "SunPKCS11", "jdk.crypto.cryptoki");
    private static final Pattern ENTRY = Pattern.compile("security\\.provider\\.\\d+=\\s*(\\S+).*");

    private SecurityProviders() {
    }

    /** The rule as an image input: a change to the table rebuilds the Java base. */
    static String rule() {
        return "providers kept only with their modules: " + new TreeMap<>(MODULES);
    }

    /** Rewrites the jlink-ed {@code runtime}'s provider list for the modules its release file names. */
    static void trim(Path runtime) throws IOException {
        Set<String> modules = Files.readAllLines(runtime.resolve("release")).stream()
                .filter(l -> l.startsWith("MODULES="))
                .flatMap(l -> Arrays.stream(l.substring("MODULES=".length()).replace("\"", "").split(" ")))
                .collect(Collectors.toSet());
        if (!modules.contains("java.base")) {
            throw new ImageBuildException(runtime.resolve("release") + " names no modules; cannot tell which security providers exist");
        }
        Path conf = runtime.resolve("conf/security/java.security");
        Files.writeString(conf, onlyPresent(Files.readString(conf), modules));
    }

    /**
     * {@code javaSecurity} with the {@code security.provider.N} entries whose module is not in
     * {@code modules} removed and the rest numbered again from 1 (the JCA stops at the first gap).
     * A provider this table does not know is kept.
     */
    static String onlyPresent(String javaSecurity, Set<String> modules) {
        List<String> out = new ArrayList<>();
        int next = 1;
        for (String line : javaSecurity.split("\n", -1)) {
            Matcher entry = ENTRY.matcher(line);
            if (!entry.matches()) {
                out.add(line);
                continue;
            }
            String module = MODULES.get(entry.group(1));
            if (module == null || modules.contains(module)) {
                out.add("security.provider." + next++ + "=" + line.substring(line.indexOf('=') + 1).strip());
            }
        }
        return String.join("\n", out);
    }
}
