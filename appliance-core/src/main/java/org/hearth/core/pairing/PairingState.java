package org.hearth.core.pairing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.hearth.core.OwnerOnlyFile;
import org.hearth.registry.protocol.PairingCode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where this box stands with pairing, in the state folder's {@code pairing/}: its pairing code
 * (owner-only; made at first start, gone once used), the name it took (set as soon as it is
 * claimed, so the apps are named after it before they start), and the record of the pairing.
 */
public final class PairingState {

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new Jdk8Module());
    private final Path dir;

    public PairingState(Path dir) {
        this.dir = dir;
    }

    /** What pairing made of this box. */
    public record Paired(String name, String domain, String address, String pairedAt) {
    }

    public Optional<Paired> paired() throws IOException {
        Path file = dir.resolve("paired.json");
        return Files.isRegularFile(file) ? Optional.of(JSON.readValue(file.toFile(), Paired.class)) : Optional.empty();
    }

    /** What the box last published under its name, and the zone's servers to check it at. */
    public record Published(String domain, List<String> nameservers, List<Map<String, String>> records) {
    }

    public Optional<Published> published() throws IOException {
        Path file = dir.resolve("published.json");
        return Files.isRegularFile(file) ? Optional.of(JSON.readValue(file.toFile(), Published.class)) : Optional.empty();
    }

    public synchronized void recordPublished(Published published) throws IOException {
        write("published.json", JSON.writeValueAsString(published));
    }

    /**
     * The box's addresses as last published at its hosts (owners under its name: "@", "mx"), when,
     * or why the registry would not (then {@code addresses} is what was published before, if any).
     */
    public record Addresses(List<String> addresses, List<String> hosts, String at, Optional<String> problem) {
    }

    public Optional<Addresses> addresses() throws IOException {
        Path file = dir.resolve("addresses.json");
        return Files.isRegularFile(file) ? Optional.of(JSON.readValue(file.toFile(), Addresses.class)) : Optional.empty();
    }

    public synchronized void recordAddresses(Addresses addresses) throws IOException {
        write("addresses.json", JSON.writeValueAsString(addresses));
    }

    /** The box's name (NAME.ZONE) once it claimed one. */
    public Optional<String> domain() throws IOException {
        Path file = dir.resolve("domain");
        return Files.isRegularFile(file) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
    }

    public synchronized void setDomain(String domain) throws IOException {
        if (!domain.equals(domain().orElse(null))) {
            write("domain", domain + "\n");
        }
    }

    /**
     * How many of the phone's messages on {@code channel} the box has answered (or refused): a box
     * restarted while the phone waits goes on with the message after them.
     */
    public synchronized int taken(String channel) throws IOException {
        Path file = dir.resolve("taken");
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        String[] parts = Files.readString(file).strip().split(" ");
        return parts.length == 2 && parts[0].equals(channel) ? Integer.parseInt(parts[1]) : 0;
    }

    public synchronized void setTaken(String channel, int count) throws IOException {
        write("taken", channel + " " + count + "\n");
    }

    /**
     * The unused code: made now on a box never paired; on a paired box, only one the owner asked
     * for ({@link #newCode}), else empty.
     */
    public synchronized Optional<PairingCode> code() throws IOException {
        Path file = dir.resolve("code");
        if (Files.isRegularFile(file)) {
            return Optional.of(PairingCode.parse(Files.readString(file).strip()));
        }
        return paired().isPresent() ? Optional.empty() : Optional.of(newCode());
    }

    /**
     * A fresh code, the old one void: before pairing, for a code that leaked; once paired, for a
     * new phone in place of a lost one (the box stays paired under its name meanwhile).
     */
    public synchronized PairingCode newCode() throws IOException {
        Files.createDirectories(dir);
        PairingCode code = PairingCode.random();
        write("code", code.format() + "\n");
        Files.deleteIfExists(dir.resolve("taken"));
        return code;
    }

    /** Paired: recorded, and the code forgotten for good. */
    public synchronized void markPaired(String name, String domain, String address) throws IOException {
        write("paired.json", JSON.writeValueAsString(new Paired(name, domain, address, Instant.now().toString())));
        Files.deleteIfExists(dir.resolve("code"));
        Files.deleteIfExists(dir.resolve("taken"));
    }

    private void write(String name, String text) throws IOException {
        Files.createDirectories(dir);
        OwnerOnlyFile.write(dir.resolve(name), text);
    }
}
