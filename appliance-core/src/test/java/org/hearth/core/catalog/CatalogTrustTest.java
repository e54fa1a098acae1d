package org.hearth.core.catalog;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a box believes of a catalog: only indexes signed by a pinned key (or one it rolled over to),
 * named for the source, unexpired, and never older than the one it holds. Catalog folders are written
 * here as a publisher would, without images (those are checked with the engine, in CatalogInstallTest).
 */
class CatalogTrustTest {

    private static final Instant NOW = Instant.parse("2026-12-04T00:00:00Z");

    @TempDir
    Path dir;

    private Path published;
    private CatalogKey.Signing key;
    private Catalogs catalogs;

    @BeforeEach
    void aCatalogPinnedToOneKey() {
        published = dir.resolve("published");
        key = CatalogKey.Signing.generate();
        catalogs = box(key.publicKey(), NOW);
    }

    private Catalogs box(CatalogKey.Public pinned, Instant now) {
        return new Catalogs(config("hearth", pinned), dir.resolve("box"), Clock.fixed(now, ZoneOffset.UTC), "amd64");
    }

    private CatalogConfig config(String name, CatalogKey.Public pinned) {
        return new CatalogConfig(List.of(new CatalogConfig.Source(name, null, published.toString(), List.of(pinned.toString()), null)));
    }

    /** Writes index {@code version} listing app {@code echo} at {@code appVersion}, signed by {@code signer}. */
    private byte[] publish(long version, String appVersion, CatalogKey.Signing signer, Instant expires) throws Exception {
        return publish("hearth", version, appVersion, signer, expires);
    }

    private byte[] publish(String catalog, long version, String appVersion, CatalogKey.Signing signer, Instant expires) throws Exception {
        byte[] manifest = ("schema: 1\napp: echo\nversion: " + appVersion + "\ncontainers:\n  echo:\n    image: hearth-test/probe\n"
                + "    lifecycle: service\n").getBytes(StandardCharsets.UTF_8);
        String manifestPath = "apps/echo/" + appVersion + "/app.yaml";
        Files.createDirectories(published.resolve(manifestPath).getParent());
        Files.write(published.resolve(manifestPath), manifest);
        CatalogIndex index = new CatalogIndex(CatalogIndex.FORMAT, catalog, version, NOW.minus(Duration.ofHours(1)), expires,
                List.of(new CatalogIndex.App("echo", "An echo", Optional.empty(), List.of(new CatalogIndex.Release(appVersion, "0.1.0",
                        Optional.of("First."), new CatalogIndex.FileRef(manifestPath, IndexTrust.sha256(manifest), manifest.length),
                        List.of(new CatalogIndex.Images("amd64", new CatalogIndex.FileRef("images/a.tar.gz", "0".repeat(64), 10),
                                List.of(new CatalogIndex.Image("hearth-test/probe:latest", "sha256:" + "1".repeat(64))))))))));
        byte[] bytes = index.toBytes();
        Files.write(published.resolve("index.json"), bytes);
        sign(bytes, signer);
        return bytes;
    }

    private void sign(byte[] index, CatalogKey.Signing signer) throws Exception {
        Files.write(published.resolve("index.json.sig"), CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.SignatureFile(List.of(
                new IndexTrust.SignatureFile.Signature(signer.publicKey().toString(),
                        Base64.getEncoder().encodeToString(signer.sign(CatalogKey.Purpose.INDEX, index)))))));
    }

    private Instant later() {
        return NOW.plus(Duration.ofDays(30));
    }

    @Test
    void anIndexSignedByThePinnedKeyIsHeldAndItsAppsFound() throws Exception {
        publish(1, "1.0.0", key, later());
        assertThat(catalogs.refresh()).singleElement().satisfies(r -> {
            assertThat(r.problem()).isEmpty();
            assertThat(r.after()).isEqualTo(1);
        });
        Catalogs.Found found = catalogs.find("echo", Optional.empty());
        assertThat(found.release().version()).isEqualTo("1.0.0");
        assertThat(found.release().notes()).contains("First.");
        assertThatThrownBy(() -> catalogs.find("echo", Optional.of("2.0.0"))).hasMessageContaining("has no echo 2.0.0");
        assertThatThrownBy(() -> catalogs.find("calendar", Optional.empty())).hasMessageContaining("no catalog lists an app calendar");
    }

    @Test
    void theOwnerAppsCheckAsksACatalogAtMostOncePerIntervalAndSeesANewRelease() throws Exception {
        publish(1, "1.0.0", key, later());
        assertThat(catalogs.refreshIfOlderThan(Duration.ofMinutes(1))).as("never checked").singleElement()
                .satisfies(r -> assertThat(r.after()).isEqualTo(1));
        publish(2, "1.1.0", key, later());
        assertThat(box(key.publicKey(), NOW.plusSeconds(59)).refreshIfOlderThan(Duration.ofMinutes(1))).as("checked 59 s ago").isEmpty();
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.0.0");
        assertThat(box(key.publicKey(), NOW.plusSeconds(61)).refreshIfOlderThan(Duration.ofMinutes(1))).as("checked 61 s ago")
                .singleElement().satisfies(r -> assertThat(r.after()).isEqualTo(2));
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.1.0");
    }

    @Test
    void oneFlippedByteInTheIndexIsRefusedAndTheHeldIndexKept() throws Exception {
        publish(1, "1.0.0", key, later());
        catalogs.refresh();
        byte[] second = publish(2, "1.1.0", key, later());
        int at = new String(second, StandardCharsets.UTF_8).indexOf("1.1.0");
        second[at + 4] ^= 1;
        Files.write(published.resolve("index.json"), second);

        assertThat(catalogs.refresh()).singleElement().satisfies(r ->
                assertThat(r.problem()).get().asString().contains("signature by key " + key.publicKey().id() + " does not match"));
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.0.0");
    }

    @Test
    void anIndexSignedByAKeyNotPinnedIsRefused() throws Exception {
        CatalogKey.Signing stranger = CatalogKey.Signing.generate();
        publish(1, "1.0.0", stranger, later());
        assertThat(catalogs.refresh()).singleElement().satisfies(r -> assertThat(r.problem()).get().asString()
                .contains("signed by key " + stranger.publicKey().id())
                .contains("trusts only " + key.publicKey().id()));
        assertThatThrownBy(() -> catalogs.find("echo", Optional.empty())).hasMessageContaining("signed by key " + stranger.publicKey().id());
    }

    @Test
    void anExpiredIndexIsRefusedAndAHeldOneStopsBeingUsedWhenItExpires() throws Exception {
        publish(1, "1.0.0", key, NOW.minusSeconds(1));
        assertThat(catalogs.refresh()).singleElement().satisfies(r -> assertThat(r.problem()).get().asString()
                .contains("expired at " + NOW.minusSeconds(1)));

        publish(1, "1.0.0", key, NOW.plus(Duration.ofDays(1)));
        assertThat(catalogs.refresh().get(0).problem()).isEmpty();
        Catalogs twoDaysOn = box(key.publicKey(), NOW.plus(Duration.ofDays(2)));
        assertThatThrownBy(() -> twoDaysOn.find("echo", Optional.empty())).hasMessageContaining("expired");
    }

    @Test
    void anOlderIndexIsRefusedAsAReplay() throws Exception {
        publish(1, "1.0.0", key, later());
        byte[] first = Files.readAllBytes(published.resolve("index.json"));
        byte[] firstSignature = Files.readAllBytes(published.resolve("index.json.sig"));
        publish(2, "1.1.0", key, later());
        catalogs.refresh();
        // A mirror serves the old, properly signed, unexpired index again.
        Files.write(published.resolve("index.json"), first);
        Files.write(published.resolve("index.json.sig"), firstSignature);

        assertThat(catalogs.refresh()).singleElement().satisfies(r -> {
            assertThat(r.problem()).get().asString().contains("version 1 is older than version 2");
            assertThat(r.after()).isEqualTo(2);
        });
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.1.0");
    }

    @Test
    void thePublishedVersionCannotChangeContent() throws Exception {
        publish(1, "1.0.0", key, later());
        catalogs.refresh();
        publish(1, "1.0.1", key, later());
        assertThat(catalogs.refresh().get(0).problem()).get().asString().contains("a catalog never changes a published version");
    }

    @Test
    void anIndexSignedForAnotherCatalogIsRefused() throws Exception {
        publish("other", 1, "1.0.0", key, later());
        assertThat(catalogs.refresh().get(0).problem()).get().asString().contains("is catalog other's, not hearth's");
    }

    @Test
    void aRolloverSignedByThePinnedKeyHandsTrustToTheNewKey() throws Exception {
        publish(1, "1.0.0", key, later());
        catalogs.refresh();
        CatalogKey.Signing next = CatalogKey.Signing.generate();
        CatalogPublisher.rollover("hearth", published, key, next.publicKey(), Clock.fixed(NOW, ZoneOffset.UTC));
        publish(2, "1.1.0", next, later());
        assertThat(catalogs.refresh().get(0).problem()).isEmpty();
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.1.0");

        // The retired key no longer signs, even with the rollover still served.
        publish(3, "1.2.0", key, later());
        assertThat(catalogs.refresh().get(0).problem()).get().asString().contains("trusts only " + next.publicKey().id());
        // The box kept the rollover: the held index still verifies after the catalog stops serving keys.json.
        Files.delete(published.resolve("keys.json"));
        assertThat(catalogs.find("echo", Optional.empty()).release().version()).isEqualTo("1.1.0");
    }

    @Test
    void aRolloverNotSignedByATrustedKeyChangesNothing() throws Exception {
        CatalogKey.Signing attacker = CatalogKey.Signing.generate();
        CatalogKey.Signing attackersNext = CatalogKey.Signing.generate();
        CatalogPublisher.rollover("hearth", published, attacker, attackersNext.publicKey(), Clock.fixed(NOW, ZoneOffset.UTC));
        publish(1, "1.0.0", attackersNext, later());
        assertThat(catalogs.refresh().get(0).problem()).get().asString().contains("trusts only " + key.publicKey().id());
    }

    @Test
    void aSignatureMadeForARolloverDoesNotSignAnIndex() throws Exception {
        byte[] index = publish(1, "1.0.0", key, later());
        Files.write(published.resolve("index.json.sig"), CatalogIndex.JSON.writeValueAsBytes(new IndexTrust.SignatureFile(List.of(
                new IndexTrust.SignatureFile.Signature(key.publicKey().toString(),
                        Base64.getEncoder().encodeToString(key.sign(CatalogKey.Purpose.ROLLOVER, index)))))));
        assertThat(catalogs.refresh().get(0).problem()).get().asString().contains("does not match");
    }

    @Test
    void aSigningKeyRoundTripsAndIsNeverOverwritten() throws Exception {
        Path file = dir.resolve("catalog.key");
        key.write(file);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(CatalogKey.Signing.read(file).publicKey()).isEqualTo(key.publicKey());
        assertThatThrownBy(() -> CatalogKey.Signing.generate().write(file)).hasMessageContaining("never overwritten");
        assertThat(CatalogKey.Public.parse(key.publicKey().toString())).isEqualTo(key.publicKey());
        assertThatThrownBy(() -> CatalogKey.Public.parse("rsa:AAAA")).hasMessageContaining("ed25519:BASE64");
    }

    @Test
    void sourcesAreCheckedWhenTheConfigurationIsRead() {
        assertThatThrownBy(() -> new CatalogConfig.Source("hearth", "http://catalog.example/", null, List.of(key.publicKey().toString()), null))
                .hasMessageContaining("catalog.sources.hearth.url: an https:// URL is needed");
        assertThatThrownBy(() -> new CatalogConfig.Source("hearth", null, "/srv/catalog", List.of(), null))
                .hasMessageContaining("catalog.sources.hearth.keys: at least one key");
        assertThatThrownBy(() -> new CatalogConfig.Source("hearth", "https://catalog.example/", "/srv/c", List.of(key.publicKey().toString()), null))
                .hasMessageContaining("not both");
    }

    @Test
    void versionsOrderByTheirNumbersAndAPreReleaseComesFirst() {
        assertThat(Versions.parse("1.10.0")).isGreaterThan(Versions.parse("1.9.3"));
        assertThat(Versions.parse("2.0.0-rc1")).isLessThan(Versions.parse("2.0.0"));
        assertThat(Versions.parse("0.1.0-SNAPSHOT").meets(Versions.parse("0.1.0"))).isTrue();
        assertThat(Versions.parse("0.1.0").meets(Versions.parse("0.2.0"))).isFalse();
        assertThatThrownBy(() -> Versions.parse("1.0")).hasMessageContaining("not of the form 1.2.3");
    }
}
