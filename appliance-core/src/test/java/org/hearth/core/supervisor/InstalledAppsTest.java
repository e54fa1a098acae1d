package org.hearth.core.supervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The installed apps as the pass lists them every second: a manifest is read again only when it changed. */
class InstalledAppsTest {

    private static String manifest(String version, String certificate) {
        return """
                schema: 1
                app: web
                version: %s
                containers:
                  web:
                    image: hearth/web
                    lifecycle: service
                    certificate: %s
                    ports:
                      - {name: https, port: 8443, exposure: public, listen: 8443}
                """.formatted(version, certificate);
    }

    @Test
    void anUnchangedManifestIsNotReadAgainAndAReplacedOneIs(@TempDir Path dir) throws Exception {
        InstalledApps apps = new InstalledApps(dir);
        apps.install("web", manifest("1.0.0", "www.${box.domain}"));
        InstalledApps.Installed first = apps.list().get(0);
        assertThat(apps.list().get(0)).isSameAs(first);
        assertThat(apps.certificates("alice.test").keySet()).containsExactly("www.alice.test");
        assertThat(apps.publicHosts("alice.test")).containsExactly("www.alice.test");

        apps.install("web", manifest("1.0.1", "web.${box.domain}"));
        assertThat(apps.list().get(0).manifest().orElseThrow().version()).isEqualTo("1.0.1");
        assertThat(apps.certificates("alice.test").keySet()).containsExactly("web.alice.test");

        // A manifest broken in place (same file, new contents) is read again too, and its problem told.
        Files.writeString(dir.resolve("web").resolve(InstalledApps.MANIFEST_FILE), "schema: 1\napp: web\n");
        assertThat(apps.list().get(0).problem()).isPresent();

        Files.delete(dir.resolve("web").resolve(InstalledApps.MANIFEST_FILE));
        assertThat(apps.list()).isEmpty();
    }

    /** One certificate for several names: named by its first, carrying all; each name reached by the public. */
    @Test
    void aCertificateForSeveralNamesIsOneCertificate(@TempDir Path dir) throws Exception {
        InstalledApps apps = new InstalledApps(dir);
        apps.install("web", manifest("1.0.0", "[\"mta-sts.${box.domain}\", \"autoconfig.${box.domain}\"]"));
        assertThat(apps.certificates("alice.test")).containsExactly(
                java.util.Map.entry("mta-sts.alice.test", List.of("mta-sts.alice.test", "autoconfig.alice.test")));
        assertThat(apps.publicHosts("alice.test")).containsExactly("autoconfig.alice.test", "mta-sts.alice.test");
    }
}
