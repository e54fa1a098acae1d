package org.hearth.core.catalog;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides whether a catalog's index may be believed: signed by a key this box trusts (the keys pinned
 * in appliance.yaml, moved on by rollover statements each signed by the key it retires), named as the
 * source expects, not expired, and not older than the index the box already holds.
 */
final class IndexTrust {

    /** {@code index.json.sig}: detached signatures over the exact bytes of index.json. */
    record SignatureFile(List<Signature> signatures) {
        record Signature(String key, String signature) {
        }
    }

    /** {@code keys.json}: the catalog's key rollovers, oldest first. */
    record RolloverFile(List<SignedRollover> rollovers) {
        RolloverFile {
            rollovers = List.copyOf(rollovers == null ? List.of() : rollovers);
        }
    }

    /** A rollover statement's JSON bytes (base64, so the signed bytes travel exactly) and the old key's signature over them. */
    record SignedRollover(String statement, String signature) {
    }

    /** "From now on, {@code to} signs this catalog instead of {@code from}." */
    record Rollover(String catalog, String from, String to, Instant issued) {
    }

    private IndexTrust() {
    }

    /**
     * The keys trusted now: the pinned ones, each replaced by the key it rolled over to when a statement
     * signed by it says so (a chain may be any length). A statement signed by any other key is ignored.
     */
    static Set<CatalogKey.Public> trustedKeys(String catalog, Set<CatalogKey.Public> pinned, List<SignedRollover> rollovers) {
        Set<CatalogKey.Public> trusted = new LinkedHashSet<>(pinned);
        List<SignedRollover> unused = new ArrayList<>(rollovers);
        boolean moved = true;
        while (moved) {
            moved = false;
            for (SignedRollover signed : List.copyOf(unused)) {
                Optional<Rollover> r = readRollover(signed);
                if (r.isEmpty() || !r.get().catalog().equals(catalog)) {
                    unused.remove(signed);
                    continue;
                }
                CatalogKey.Public from;
                CatalogKey.Public to;
                try {
                    from = CatalogKey.Public.parse(r.get().from());
                    to = CatalogKey.Public.parse(r.get().to());
                } catch (IllegalArgumentException e) {
                    unused.remove(signed);
                    continue;
                }
                if (trusted.contains(from) && from.verifies(CatalogKey.Purpose.ROLLOVER,
                        Base64.getDecoder().decode(signed.statement()), decode(signed.signature()))) {
                    trusted.remove(from);
                    trusted.add(to);
                    unused.remove(signed);
                    moved = true;
                }
            }
        }
        return trusted;
    }

    /**
     * Checks the signature, name and expiry of an index's bytes and returns the index; every refusal
     * names the file and what failed.
     */
    static CatalogIndex verify(String catalog, byte[] index, byte[] signatures, Set<CatalogKey.Public> trusted, Instant now)
            throws CatalogException {
        SignatureFile file;
        try {
            file = CatalogIndex.JSON.readValue(signatures, SignatureFile.class);
        } catch (IOException e) {
            throw new CatalogException("index.json.sig: not a signature file: " + e.getMessage());
        }
        List<String> signers = new ArrayList<>();
        boolean verified = false;
        for (SignatureFile.Signature s : file.signatures() == null ? List.<SignatureFile.Signature>of() : file.signatures()) {
            CatalogKey.Public key;
            try {
                key = CatalogKey.Public.parse(s.key());
            } catch (IllegalArgumentException e) {
                continue;
            }
            signers.add(key.id());
            if (!trusted.contains(key)) {
                continue;
            }
            if (!key.verifies(CatalogKey.Purpose.INDEX, index, decode(s.signature()))) {
                throw new CatalogException("index.json: the signature by key " + key.id()
                        + " does not match the index (changed after it was signed, or damaged on the way)");
            }
            verified = true;
        }
        if (!verified) {
            throw new CatalogException("index.json is signed by " + (signers.isEmpty() ? "no key" : "key " + String.join(", ", signers))
                    + ", and this box trusts only " + trusted.stream().map(CatalogKey.Public::id).collect(Collectors.joining(", "))
                    + " for catalog " + catalog + " (appliance.yaml catalog.sources, and the catalog's keys.json for rollovers)");
        }
        CatalogIndex parsed = CatalogIndex.parse("index.json", index);
        if (!parsed.catalog().equals(catalog)) {
            throw new CatalogException("index.json is catalog " + parsed.catalog() + "'s, not " + catalog
                    + "'s: an index signed for another catalog is refused");
        }
        if (!now.isBefore(parsed.expires())) {
            throw new CatalogException("index.json (version " + parsed.version() + ") expired at " + parsed.expires()
                    + ": the catalog must publish a fresh index (a stale one could hide security updates)");
        }
        return parsed;
    }

    /** Refuses an index older than the one held, or one that claims the held version with other content. */
    static void notReplayed(CatalogIndex held, byte[] heldBytes, CatalogIndex offered, byte[] offeredBytes) throws CatalogException {
        if (offered.version() < held.version()) {
            throw new CatalogException("index.json version " + offered.version() + " is older than version " + held.version()
                    + ", which this box already has: a replayed or rolled-back catalog is refused");
        }
        if (offered.version() == held.version() && !java.util.Arrays.equals(heldBytes, offeredBytes)) {
            throw new CatalogException("index.json version " + offered.version()
                    + " differs from the version " + held.version() + " this box has: a catalog never changes a published version");
        }
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(CatalogKey.sha256(bytes));
    }

    private static Optional<Rollover> readRollover(SignedRollover signed) {
        try {
            return Optional.of(CatalogIndex.JSON.readValue(Base64.getDecoder().decode(signed.statement()), Rollover.class));
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }

    private static byte[] decode(String base64) {
        try {
            return base64 == null ? new byte[0] : Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }
}
