package org.hearth.core.overlay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Decodes with zbarimg (ZBar), a decoder independent of the encoder, as a phone's camera app would. */
class QrCodeTest {

    private static final String CONFIG = WireGuardDeviceConfig.render(
            new WireGuardDevices.Issued(new WireGuardDevices.Device("phone", WireGuardKeys.publicKeyOf(
                    "oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM="), WireGuardKeys.newPresharedKey(), "10.84.0.2",
                    "2026-11-22T00:00:00Z"), "oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM="),
            WireGuardKeys.publicKeyOf(WireGuardKeys.newPrivateKey()), WireGuardSettings.defaults(), "198.18.0.1:51820");

    @TempDir
    Path dir;

    @Test
    void thePngDecodesToTheWholeConfiguration() throws Exception {
        Path png = dir.resolve("phone.png");
        Files.write(png, QrCode.of(CONFIG).png(6));

        assertThat(zbar(png)).isEqualTo(CONFIG);
    }

    /** Reads the half blocks back into modules and decodes them: what a phone sees on the screen. */
    @Test
    void theTerminalRenderingDecodesToTheWholeConfiguration() throws Exception {
        List<String> lines = QrCode.of(CONFIG).terminal().replaceAll("\033\\[[0-9;]*m", "").lines().toList();
        int width = lines.get(0).length();
        int scale = 6;
        BufferedImage image = new BufferedImage(width * scale, lines.size() * 2 * scale, BufferedImage.TYPE_BYTE_BINARY);
        for (int row = 0; row < lines.size(); row++) {
            for (int x = 0; x < width; x++) {
                char c = lines.get(row).charAt(x);
                paint(image, x, row * 2, c == '█' || c == '▀', scale);
                paint(image, x, row * 2 + 1, c == '█' || c == '▄', scale);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        Path png = dir.resolve("terminal.png");
        Files.write(png, out.toByteArray());

        assertThat(zbar(png)).isEqualTo(CONFIG);
    }

    private static void paint(BufferedImage image, int mx, int my, boolean dark, int scale) {
        for (int y = my * scale; y < (my + 1) * scale; y++) {
            for (int x = mx * scale; x < (mx + 1) * scale; x++) {
                image.setRGB(x, y, dark ? 0xff000000 : 0xffffffff);
            }
        }
    }

    private static String zbar(Path png) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/zbarimg")), "NOT TESTED: zbarimg is missing (apt install zbar-tools)");
        // Output to files, not a pipe read to its end, so the deadline holds; stderr apart (zbarimg warns there about D-Bus).
        Path out = png.resolveSibling(png.getFileName() + ".decoded");
        Path err = png.resolveSibling(png.getFileName() + ".stderr");
        Process p = new ProcessBuilder("zbarimg", "--quiet", "--raw", "-Sbinary", png.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("zbarimg did not finish in 60 s; killed; stdout so far: " + Files.readString(out)
                    + " stderr: " + Files.readString(err));
        }
        assertThat(p.exitValue()).as("zbarimg found a code; stderr: %s", Files.readString(err)).isZero();
        return new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
    }
}
