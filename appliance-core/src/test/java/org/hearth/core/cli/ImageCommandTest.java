package org.hearth.core.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hearth image sd} refuses what would make a wrong card before it builds anything. */
class ImageCommandTest {

    @TempDir
    Path dir;

    private String refusal(String... args) {
        CommandLine cli = HearthCommand.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 2];
        all[0] = "--state-dir";
        all[1] = dir.resolve("state").toString();
        System.arraycopy(args, 0, all, 2, args.length);
        assertThat(cli.execute(all)).isNotZero();
        return err.toString();
    }

    @Test
    void aPrivateKeyIsNeverPutOnACard() throws Exception {
        Path key = Files.writeString(dir.resolve("id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n");
        assertThat(refusal("image", "sd", "--registry", "https://boxes.example.net", "--ssh-key", key.toString()))
                .contains("--ssh-key " + key + ": this is a private key; give its public half (id_ed25519.pub)");
    }

    @Test
    void missingFilesAndARegistryAreNamed() throws Exception {
        assertThat(refusal("image", "sd", "--registry", "https://boxes.example.net", "--wifi", dir.resolve("nope.txt").toString()))
                .contains(dir.resolve("nope.txt") + ": no such file");
        assertThat(refusal("image", "sd", "--registry", "https://boxes.example.net", "--wifi", dir.toString()))
                .contains(dir + ": not a file");
        assertThat(refusal("image", "sd")).contains("name the registry the box pairs through: --registry URL");
    }

    @Test
    void aCatalogNeedsHttpsAndAWellFormedPublisherKey() {
        String registry = "https://boxes.example.net";
        assertThat(refusal("image", "sd", "--registry", registry, "--catalog", "http://boxes.example.net/catalog",
                "--catalog-key", "ed25519:" + "A".repeat(43) + "="))
                .contains("--catalog, --catalog-name or --catalog-key: catalog.sources.hearth.url: an https:// URL is needed, "
                        + "not http://boxes.example.net/catalog");
        assertThat(refusal("image", "sd", "--registry", registry, "--catalog", "https://boxes.example.net/catalog",
                "--catalog-key", "ed25519:" + "A".repeat(43) + "=", "--catalog-name", "Hearth"))
                .contains("--catalog, --catalog-name or --catalog-key: ").contains("Hearth");
        assertThat(refusal("image", "sd", "--registry", registry, "--catalog", "https://boxes.example.net/catalog"))
                .contains("--catalog needs the publisher's key: --catalog-key ed25519:BASE64");
        assertThat(refusal("image", "sd", "--registry", registry, "--catalog", "https://boxes.example.net/catalog",
                "--catalog-key", "ssh-ed25519 AAAA"))
                .contains("a catalog key is written ed25519:BASE64, not \"ssh-ed25519 AAAA\"");
        assertThat(refusal("image", "sd", "--registry", registry, "--catalog-key", "ed25519:" + "A".repeat(43) + "="))
                .contains("--catalog-key and --catalog-trust need --catalog URL");
    }
}
