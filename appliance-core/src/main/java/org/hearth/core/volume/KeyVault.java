package org.hearth.core.volume;

import org.hearth.core.OwnerOnlyFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The owner's keys, as stored on disk: only ever wrapped. The passphrase, through Argon2id,
 * gives a key-encryption key that wraps the master key; the master key wraps each volume's own
 * random key. Wrapping is AES-256-GCM with what the key is for as associated data, so a wrapped
 * key cannot be swapped for another volume's. Changing the passphrase re-wraps the master key
 * and touches no volume.
 */
public final class KeyVault {

    /** Argon2id cost, chosen so an unlock takes about a second on a Raspberry Pi 3 (1 GB RAM, 4 x 1.2 GHz). */
    public record Cost(int memoryKiB, int iterations, int parallelism) {
        public static final Cost APPLIANCE = new Cost(64 * 1024, 3, 1);
    }

    /** The passphrase did not open the vault; nothing was changed. */
    public static final class WrongPassphraseException extends Exception {
        WrongPassphraseException() {
            super("wrong passphrase");
        }
    }

    /**
     * The vault file itself is damaged (truncated, edited, bit rot): no passphrase was tried, so
     * this is never counted as a failed unlock.
     */
    public static final class DamagedVaultException extends IOException {
        DamagedVaultException(Path file, String what) {
            super(file + " is damaged: " + what + "; no passphrase was tried (restore it from a backup)");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final String MASTER_PURPOSE = "hearth master key";
    private static final int SALT_BYTES = 16;
    /** A wrapped master key: nonce, the key, GCM's tag. */
    private static final int WRAPPED_MASTER_BYTES = NONCE_BYTES + KEY_BYTES + 16;

    private final Path file;

    private KeyVault(Path file) {
        this.file = file;
    }

    public static KeyVault at(Path file) {
        return new KeyVault(file);
    }

    public boolean exists() {
        return Files.exists(file);
    }

    /** Creates the vault with a new random master key; refuses to replace an existing one. */
    public void create(char[] passphrase, Cost cost) throws IOException {
        if (exists()) {
            throw new IOException(file + " already exists: a vault is created once (use passphrase change)");
        }
        byte[] master = random(KEY_BYTES);
        try {
            ObjectNode root = JSON.createObjectNode();
            root.put("format", 1);
            writeMaster(root, master, passphrase, cost);
            root.putObject("volumes");
            save(root);
        } finally {
            Arrays.fill(master, (byte) 0);
        }
    }

    /**
     * The master key, if the passphrase is right. The caller clears the returned array when done.
     * A damaged file is a {@link DamagedVaultException}: AES-GCM cannot tell a flipped bit from a
     * wrong passphrase, so the file's shape and checksum are verified before the passphrase is tried.
     */
    public byte[] unlock(char[] passphrase) throws IOException, WrongPassphraseException {
        ObjectNode root = load();
        JsonNode kdfNode = field(root, "kdf");
        if (!(kdfNode instanceof ObjectNode kdf)) {
            throw new DamagedVaultException(file, "field \"kdf\" is not an object");
        }
        if (!"argon2id".equals(kdf.path("algorithm").asText())) {
            throw new DamagedVaultException(file, "kdf.algorithm is \"" + kdf.path("algorithm").asText()
                    + "\", not \"argon2id\"");
        }
        Cost cost = new Cost(positiveInt(kdf, "memoryKiB"), positiveInt(kdf, "iterations"), positiveInt(kdf, "parallelism"));
        byte[] salt = decode(kdf, "salt");
        if (salt.length != SALT_BYTES) {
            throw new DamagedVaultException(file, "kdf.salt is " + salt.length + " bytes, not " + SALT_BYTES);
        }
        byte[] wrapped = decode(root, "master");
        if (wrapped.length != WRAPPED_MASTER_BYTES) {
            throw new DamagedVaultException(file, "the wrapped master key is " + wrapped.length + " bytes, not "
                    + WRAPPED_MASTER_BYTES);
        }
        // Vaults written before the checksum existed have none; they get one at the next passphrase change.
        if (root.hasNonNull("check") && !root.get("check").asText().equals(checksum(kdf, root.get("master").asText()))) {
            throw new DamagedVaultException(file, "its checksum does not match the kdf and master key fields");
        }
        byte[] kek = derive(passphrase, salt, cost);
        try {
            return unwrap(kek, wrapped, MASTER_PURPOSE);
        } catch (AEADBadTagException e) {
            throw new WrongPassphraseException();
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    /** Re-wraps the master key under a new passphrase (fresh salt); volume keys stay as they are. */
    public void changePassphrase(char[] current, char[] replacement, Cost cost) throws IOException, WrongPassphraseException {
        byte[] master = unlock(current);
        try {
            ObjectNode root = load();
            writeMaster(root, master, replacement, cost);
            save(root);
        } finally {
            Arrays.fill(master, (byte) 0);
        }
    }

    /** Makes, stores (wrapped) and returns a new random key for {@code volume}. */
    public byte[] newVolumeKey(byte[] master, String volume, int bytes) throws IOException {
        ObjectNode root = load();
        ObjectNode volumes = (ObjectNode) field(root, "volumes");
        if (volumes.has(volume)) {
            throw new IOException(file + ": volume " + volume + " already has a key");
        }
        byte[] key = random(bytes);
        volumes.put(volume, Base64.getEncoder().encodeToString(wrap(master, key, volumePurpose(volume))));
        save(root);
        return key;
    }

    /** The key of {@code volume}; the caller clears the returned array when done. */
    public byte[] volumeKey(byte[] master, String volume) throws IOException {
        ObjectNode volumes = (ObjectNode) field(load(), "volumes");
        if (!volumes.has(volume)) {
            throw new IOException(file + ": no key for volume " + volume);
        }
        try {
            return unwrap(master, decode(volumes, volume), volumePurpose(volume));
        } catch (AEADBadTagException e) {
            throw new IOException(file + ": the wrapped key of volume " + volume
                    + " is corrupted (authentication failed); its data cannot be opened without it", e);
        }
    }

    public boolean hasVolume(String volume) throws IOException {
        return exists() && field(load(), "volumes").has(volume);
    }

    /** Forgets a volume's key: what was encrypted with it is unreadable from now on. */
    public void forgetVolume(String volume) throws IOException {
        ObjectNode root = load();
        ((ObjectNode) field(root, "volumes")).remove(volume);
        save(root);
    }

    /**
     * Stores a named secret (a relay's password, say) wrapped under the master key, replacing an
     * earlier value: it is as safe as the volumes' keys and needs the passphrase to be read.
     */
    public void putSecret(byte[] master, String name, byte[] value) throws IOException {
        ObjectNode root = load();
        ObjectNode secrets = root.has("secrets") ? (ObjectNode) root.get("secrets") : root.putObject("secrets");
        secrets.put(name, Base64.getEncoder().encodeToString(wrap(master, value, secretPurpose(name))));
        save(root);
    }

    /** A secret's value, if set; the caller clears the returned array when done. */
    public Optional<byte[]> secret(byte[] master, String name) throws IOException {
        JsonNode secrets = load().path("secrets");
        if (!(secrets instanceof ObjectNode o) || !o.has(name)) {
            return Optional.empty();
        }
        try {
            return Optional.of(unwrap(master, decode(o, name), secretPurpose(name)));
        } catch (AEADBadTagException e) {
            throw new IOException(file + ": the secret " + name + " is corrupted (authentication failed); set it again", e);
        }
    }

    /** Forgets a secret; false when there was none of that name. */
    public boolean removeSecret(String name) throws IOException {
        ObjectNode root = load();
        if (!(root.path("secrets") instanceof ObjectNode secrets) || secrets.remove(name) == null) {
            return false;
        }
        save(root);
        return true;
    }

    /** The names of the secrets set, sorted; their values need the master key. */
    public List<String> secretNames() throws IOException {
        if (!exists()) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        load().path("secrets").fieldNames().forEachRemaining(names::add);
        Collections.sort(names);
        return names;
    }

    private void writeMaster(ObjectNode root, byte[] master, char[] passphrase, Cost cost) {
        byte[] salt = random(SALT_BYTES);
        byte[] kek = derive(passphrase, salt, cost);
        try {
            ObjectNode kdf = root.putObject("kdf");
            kdf.put("algorithm", "argon2id");
            kdf.put("memoryKiB", cost.memoryKiB());
            kdf.put("iterations", cost.iterations());
            kdf.put("parallelism", cost.parallelism());
            kdf.put("salt", Base64.getEncoder().encodeToString(salt));
            String wrapped = Base64.getEncoder().encodeToString(wrap(kek, master, MASTER_PURPOSE));
            root.put("master", wrapped);
            root.put("check", checksum(kdf, wrapped));
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    /** SHA-256 over what unlock reads: a mismatch means the file changed, whatever the passphrase. */
    private static String checksum(ObjectNode kdf, String wrappedMaster) {
        String covered = String.join("\n", "hearth vault check 1", kdf.path("algorithm").asText(),
                kdf.path("memoryKiB").asText(), kdf.path("iterations").asText(), kdf.path("parallelism").asText(),
                kdf.path("salt").asText(), wrappedMaster);
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(covered.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private int positiveInt(ObjectNode node, String name) throws IOException {
        JsonNode value = field(node, name);
        if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() <= 0) {
            throw new DamagedVaultException(file, "kdf." + name + " is " + value + ", not a positive whole number");
        }
        return value.asInt();
    }

    static byte[] derive(char[] passphrase, byte[] salt, Cost cost) {
        Argon2BytesGenerator argon = new Argon2BytesGenerator();
        argon.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt).withMemoryAsKB(cost.memoryKiB()).withIterations(cost.iterations())
                .withParallelism(cost.parallelism()).build());
        byte[] out = new byte[KEY_BYTES];
        byte[] utf8 = toUtf8(passphrase);
        try {
            argon.generateBytes(utf8, out);
        } finally {
            Arrays.fill(utf8, (byte) 0);
        }
        // Argon2's memory (64 MiB on the appliance) is garbage once the key is out: collect it now, so
        // a long-lived supervisor's heap shrinks back rather than holding it until some later full GC.
        argon = null;
        System.gc();
        return out;
    }

    private static byte[] wrap(byte[] kek, byte[] key, String purpose) {
        byte[] nonce = random(NONCE_BYTES);
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
            gcm.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = gcm.doFinal(key);
            byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
            System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every Java runtime", e);
        }
    }

    private static byte[] unwrap(byte[] kek, byte[] wrapped, String purpose) throws AEADBadTagException {
        if (wrapped.length <= NONCE_BYTES + 16) {
            throw new AEADBadTagException("wrapped key too short");
        }
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"),
                    new GCMParameterSpec(128, wrapped, 0, NONCE_BYTES));
            gcm.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            return gcm.doFinal(wrapped, NONCE_BYTES, wrapped.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every Java runtime", e);
        }
    }

    private static String secretPurpose(String name) {
        return "hearth secret " + name;
    }

    private static String volumePurpose(String volume) {
        return "hearth volume " + volume;
    }

    private static byte[] random(int bytes) {
        byte[] out = new byte[bytes];
        RANDOM.nextBytes(out);
        return out;
    }

    private static byte[] toUtf8(char[] chars) {
        var buffer = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(chars));
        byte[] out = Arrays.copyOfRange(buffer.array(), buffer.position(), buffer.limit());
        Arrays.fill(buffer.array(), (byte) 0);
        return out;
    }

    private ObjectNode load() throws IOException {
        if (!exists()) {
            throw new IOException(file + " does not exist: no passphrase has been set (run: hearth unlock)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new DamagedVaultException(file, "it is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(root instanceof ObjectNode object)) {
            throw new DamagedVaultException(file, root == null || root.isMissingNode() ? "it is empty" : "it is not a JSON object");
        }
        return object;
    }

    private JsonNode field(ObjectNode node, String name) throws IOException {
        if (!node.hasNonNull(name)) {
            throw new DamagedVaultException(file, "field \"" + name + "\" is missing");
        }
        return node.get(name);
    }

    private byte[] decode(ObjectNode node, String name) throws IOException {
        try {
            return Base64.getDecoder().decode(field(node, name).asText());
        } catch (IllegalArgumentException e) {
            throw new DamagedVaultException(file, "field \"" + name + "\" is not base64");
        }
    }

    /** Writes next to the vault, then renames over it: a crash leaves the old or the new vault, never half of one. */
    private void save(ObjectNode root) throws IOException {
        Files.createDirectories(file.getParent());
        OwnerOnlyFile.write(file, JSON.writeValueAsBytes(root));
    }
}
