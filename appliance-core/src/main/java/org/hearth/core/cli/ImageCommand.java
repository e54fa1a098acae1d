package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.catalog.CatalogConfig;
import org.hearth.core.image.SdImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code hearth image sd}: the card a Raspberry Pi 3 boots Hearth from (docs/sd-image.md). */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Build what a box boots from.", subcommands = {ImageCommand.Sd.class})
final class ImageCommand {

    @ParentCommand
    HearthCommand root;

    @Command(name = "sd", mixinStandardHelpOptions = true,
            description = "Build a flashable SD card image for a Raspberry Pi 3, with OUT.xz, OUT.sha256 and "
                    + "OUT.packages beside it. The Debian layer (tens of minutes the first time) is cached.")
    static final class Sd implements Callable<Integer> {
        @ParentCommand
        ImageCommand image;

        @Option(names = "--arch", defaultValue = "arm64", description = "The board's architecture (default: ${DEFAULT-VALUE}).")
        String arch;

        @Option(names = "--out", paramLabel = "FILE", defaultValue = "hearth-pi3.img",
                description = "The raw image (default: ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--wifi", paramLabel = "FILE",
                description = "Wi-Fi for the first boot, as lines 'ssid: NAME', 'password: SECRET', 'country: CC' "
                        + "(copied to the boot partition as hearth-wifi.txt; the box deletes it once read).")
        Optional<Path> wifi;

        @Option(names = "--ssh-key", paramLabel = "FILE",
                description = "A public key that may log in as root over SSH (no password ever can).")
        Optional<Path> sshKey;

        @Option(names = "--registry", paramLabel = "URL",
                description = "The registry the box pairs through (default: registry.url of this machine's "
                        + ApplianceConfig.FILE + ").")
        Optional<URI> registry;

        @Option(names = "--catalog", paramLabel = "URL",
                description = "The catalog the box installs apps from (https://...; build it with --arch arm64 images: "
                        + "docs/catalog.md). Without one, the owner can install no app.")
        Optional<URI> catalogUrl;

        @Option(names = "--catalog-key", paramLabel = "ed25519:BASE64", description = "The catalog publisher's public key, pinned on the box.")
        List<String> catalogKeys;

        @Option(names = "--catalog-name", defaultValue = "hearth", description = "The catalog's name, as its index says (default: ${DEFAULT-VALUE}).")
        String catalogName;

        @Option(names = "--catalog-trust", paramLabel = "PEM",
                description = "The CA of the catalog's HTTPS certificate, when Java does not trust it (copied onto the card).")
        Optional<Path> catalogTrust;

        @Override
        public Integer call() throws Exception {
            var home = image.root.home();
            for (Optional<Path> file : List.of(wifi, sshKey)) {
                if (file.isPresent() && !Files.isRegularFile(file.get())) {
                    throw new IllegalArgumentException(file.get() + (Files.exists(file.get()) ? ": not a file" : ": no such file"));
                }
            }
            if (sshKey.isPresent() && Files.readString(sshKey.get()).contains("PRIVATE KEY")) {
                throw new IllegalArgumentException("--ssh-key " + sshKey.get() + ": this is a private key; give its public"
                        + " half (" + sshKey.get().getFileName() + ".pub), which is all the box needs");
            }
            URI pairsThrough = registry.or(() -> ApplianceConfig.read(home).registry().url()).orElseThrow(() ->
                    new IllegalArgumentException("name the registry the box pairs through: --registry URL (or registry.url in "
                            + ApplianceConfig.file(home) + ")"));
            Optional<SdImage.Catalog> catalog = catalog();
            DemoCommand.script(home, "install-packages", "image");
            SdImage.Result r = new SdImage(home, System.out::println).build(new SdImage.Options(out.toAbsolutePath(),
                    wifi, sshKey, pairsThrough, UpCommand.SUPERVISOR_JVM, arch, catalog));
            System.out.printf("%s: %d MiB, sha256 %s%n%s: %d MiB, sha256 %s%n", r.image(), r.imageBytes() >> 20,
                    r.imageSha256(), r.compressed(), r.compressedBytes() >> 20, r.compressedSha256());
            System.out.printf("Debian layer %s in %.1f s, assembled in %.1f s, compressed in %.1f s%n",
                    r.layerCached() ? "cached" : "built", r.layer().toMillis() / 1e3, r.assemble().toMillis() / 1e3,
                    r.compress().toMillis() / 1e3);
            if (wifi.isPresent()) {
                System.out.println("Both files hold your Wi-Fi password (owner-only): keep them to yourself.");
            }
            if (catalog.isEmpty()) {
                System.out.println("The card names no catalog (--catalog): the box can pair, but the owner cannot install apps.");
            }
            System.out.println("Flash it: xzcat " + r.compressed().getFileName() + " | dd of=/dev/sdX bs=4M conv=fsync "
                    + "(check it first: sha256sum -c " + r.image().getFileName() + ".sha256)");
            return 0;
        }

        /** The card's catalog source, each part checked here rather than by a box that cannot say so. */
        private Optional<SdImage.Catalog> catalog() {
            if (catalogUrl.isEmpty()) {
                if (catalogKeys != null || catalogTrust.isPresent()) {
                    throw new IllegalArgumentException("--catalog-key and --catalog-trust need --catalog URL");
                }
                return Optional.empty();
            }
            if (catalogKeys == null || catalogKeys.isEmpty()) {
                throw new IllegalArgumentException("--catalog needs the publisher's key: --catalog-key ed25519:BASE64");
            }
            if (catalogTrust.isPresent() && !Files.isRegularFile(catalogTrust.get())) {
                throw new IllegalArgumentException("--catalog-trust " + catalogTrust.get() + ": no such file");
            }
            // Read as the box will read it: a value the box would refuse is refused here, by its option.
            try {
                new CatalogConfig.Source(catalogName, catalogUrl.get().toString(), null, catalogKeys, null);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--catalog, --catalog-name or --catalog-key: " + e.getMessage(), e);
            }
            return Optional.of(new SdImage.Catalog(catalogName, catalogUrl.get(), catalogKeys, catalogTrust));
        }

    }
}
