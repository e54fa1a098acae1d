package org.hearth.mail.outbound.dkim;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Every domain's DKIM keys, in a folder on the outbound container's encrypted volume:
 * {@code DOMAIN/SELECTOR.key} (the private key, PKCS#8 PEM, readable by its owner only),
 * {@code DOMAIN/SELECTOR.pub} (the public key) and {@code DOMAIN/active} (the selectors that sign,
 * one per algorithm). A rotation makes a new pair and makes it active; the old keys stay on disk
 * (and in {@link #published}) so that mail signed before it still verifies while in transit.
 */
public final class DkimKeys {

    /** Letters, digits and hyphens in dot-separated labels: a domain, and never a path. */
    private static final Pattern DOMAIN = Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}");
    private static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;
    private static final int RSA_BITS = 2048;

    private final Path root;
    /** Each domain's signing keys as last read: every message is signed, and {@link #activate} is their only writer. */
    private final Map<String, List<DkimKey>> signing = new HashMap<>();

    public DkimKeys(Path root) {
        this.root = root;
    }

    /**
     * Makes a new RSA-2048 and Ed25519 key for the domain and makes them the signing keys at once;
     * returns them. For a domain's first keys: nothing was signed before, so nothing can break.
     */
    public synchronized List<DkimKey> rotate(String domain, LocalDate today) throws IOException {
        List<DkimKey> made = prepare(domain, today);
        activate(domain, made.stream().map(DkimKey::selector).toList());
        return made;
    }

    /**
     * Makes a new RSA-2048 and Ed25519 key for the domain that do not sign yet: they are published
     * (listed by {@link #published}) so their records can reach DNS before any mail carries them.
     * Selectors are {@code rsa-YYYYMMDD} and {@code ed-YYYYMMDD} (with {@code -2}, {@code -3} on the
     * same day), so a DNS reader sees which key and when.
     */
    public synchronized List<DkimKey> prepare(String domain, LocalDate today) throws IOException {
        Path dir = Files.createDirectories(domainDir(domain));
        List<DkimKey> made = new ArrayList<>();
        for (DkimAlgorithm algorithm : DkimAlgorithm.values()) {
            String selector = freeSelector(dir, algorithm, today);
            KeyPair pair = generate(algorithm);
            // The private key first: a .pub on disk always has its key (published() lists by .pub).
            writeAtomically(dir.resolve(selector + ".key"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
            writeAtomically(dir.resolve(selector + ".pub"), pem("PUBLIC KEY", pair.getPublic().getEncoded()), false);
            made.add(new DkimKey(domain, selector, algorithm, pair.getPrivate(), pair.getPublic()));
        }
        return made;
    }

    /** Makes {@code selectors} (keys on disk, one per algorithm) the domain's signing keys, in one atomic write. */
    public synchronized void activate(String domain, List<String> selectors) throws IOException {
        Path dir = domainDir(domain);
        List<DkimAlgorithm> algorithms = new ArrayList<>();
        for (String selector : selectors) {
            if (!selector.matches("[a-z]+-\\d{8}(-\\d{1,3})?")) {
                throw new IllegalArgumentException("not a DKIM selector of this appliance: " + selector);
            }
            if (!Files.exists(dir.resolve(selector + ".pub")) || !Files.exists(dir.resolve(selector + ".key"))) {
                throw new IllegalArgumentException("no DKIM key " + selector + " for " + domain);
            }
            algorithms.add(DkimAlgorithm.ofSelector(selector));
        }
        if (algorithms.size() != DkimAlgorithm.values().length || algorithms.stream().distinct().count() != algorithms.size()) {
            throw new IllegalArgumentException("a domain signs with one key of each algorithm (rsa-…, ed-…), not " + selectors);
        }
        writeAtomically(dir.resolve("active"), selectors.stream().map(s -> s + "\n").reduce("", String::concat), false);
        signing.remove(domain.toLowerCase(Locale.ROOT));
    }

    /** The keys that sign the domain's mail, made at once (as by {@link #rotate}) for a domain that has none yet. */
    public synchronized List<DkimKey> signingKeys(String domain, LocalDate today) throws IOException {
        List<DkimKey> keys = active(domain);
        return keys.isEmpty() ? rotate(domain, today) : keys;
    }

    /** The keys that sign the domain's mail; empty when the domain has none yet. */
    public synchronized List<DkimKey> active(String domain) throws IOException {
        String d = domain.toLowerCase(Locale.ROOT);
        List<DkimKey> known = signing.get(d);
        if (known != null) {
            return known;
        }
        Path active = domainDir(domain).resolve("active");
        if (!Files.exists(active)) {
            return List.of();
        }
        List<DkimKey> keys = new ArrayList<>();
        for (String selector : Files.readAllLines(active, StandardCharsets.US_ASCII)) {
            if (!selector.isBlank()) {
                keys.add(load(domain, selector.strip()));
            }
        }
        signing.put(d, List.copyOf(keys));
        return List.copyOf(keys);
    }

    /** Every key of the domain still on disk, newest first: what DNS should publish. */
    public synchronized List<DkimKey> published(String domain) throws IOException {
        Path dir = domainDir(domain);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> selectors;
        try (var files = Files.list(dir)) {
            selectors = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pub"))
                    .map(n -> n.substring(0, n.length() - ".pub".length())).sorted().toList();
        }
        List<DkimKey> keys = new ArrayList<>();
        for (String selector : selectors) {
            keys.add(0, load(domain, selector));
        }
        return keys;
    }

    private DkimKey load(String domain, String selector) throws IOException {
        Path dir = domainDir(domain);
        DkimAlgorithm algorithm = DkimAlgorithm.ofSelector(selector);
        try {
            KeyFactory factory = KeyFactory.getInstance(algorithm.jcaKeyAlgorithm());
            PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(unpem(dir.resolve(selector + ".key"))));
            PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(unpem(dir.resolve(selector + ".pub"))));
            return new DkimKey(domain, selector, algorithm, privateKey, publicKey);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("DKIM key " + dir.resolve(selector + ".key") + " cannot be read: " + e.getMessage(), e);
        }
    }

    private Path domainDir(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (!DOMAIN.matcher(d).matches()) {
            throw new IllegalArgumentException("not a domain name: " + domain);
        }
        return root.resolve(d);
    }

    private static String freeSelector(Path dir, DkimAlgorithm algorithm, LocalDate today) {
        String base = algorithm.selectorPrefix() + "-" + today.format(DAY);
        String selector = base;
        for (int n = 2; Files.exists(dir.resolve(selector + ".pub")); n++) {
            selector = base + "-" + n;
        }
        return selector;
    }

    private static KeyPair generate(DkimAlgorithm algorithm) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm.jcaKeyAlgorithm());
            if (algorithm == DkimAlgorithm.RSA_SHA256) {
                generator.initialize(new RSAKeyGenParameterSpec(RSA_BITS, RSAKeyGenParameterSpec.F4));
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a " + algorithm.signatureName() + " key: " + e.getMessage(), e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] unpem(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String body = text.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }

    /** Written to a temporary file, forced to disk, then renamed: a crash leaves the old file or the new one. */
    private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        // The rename itself is durable only once the folder is.
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
