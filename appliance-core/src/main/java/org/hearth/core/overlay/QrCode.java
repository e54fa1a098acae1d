package org.hearth.core.overlay;

import com.google.zxing.BarcodeFormat;
import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.common.BitMatrix;
import com.google.zxing.qrcode.QRCodeWriter;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A QR code of a text (a device's configuration), as a PNG and as terminal lines a phone can scan off the screen. */
public final class QrCode {

    /** The quiet zone scanners need around the code, in modules. */
    private static final int MARGIN = 4;
    private final BitMatrix modules;

    private QrCode(BitMatrix modules) {
        this.modules = modules;
    }

    public static QrCode of(String text) {
        try {
            // ZXing pads the matrix by the margin itself; level M survives a smudged screen or a glare.
            BitMatrix m = new QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 0, 0, Map.of(
                    EncodeHintType.ERROR_CORRECTION, ErrorCorrectionLevel.M, EncodeHintType.MARGIN, MARGIN,
                    EncodeHintType.CHARACTER_SET, StandardCharsets.UTF_8.name()));
            return new QrCode(m);
        } catch (WriterException e) {
            throw new IllegalArgumentException("cannot encode " + text.length() + " characters as a QR code", e);
        }
    }

    /** Black modules on white, {@code scale} pixels each. */
    public byte[] png(int scale) {
        BufferedImage image = new BufferedImage(modules.getWidth() * scale, modules.getHeight() * scale,
                BufferedImage.TYPE_BYTE_BINARY);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                image.setRGB(x, y, modules.get(x / scale, y / scale) ? 0xff000000 : 0xffffffff);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a PNG in memory", e);
        }
        return out.toByteArray();
    }

    /**
     * Two module rows per text line with half blocks, black on an explicitly white background, so
     * the code reads right on dark and light terminals alike.
     */
    public String terminal() {
        StringBuilder out = new StringBuilder();
        for (int y = 0; y < modules.getHeight(); y += 2) {
            out.append("\033[30;47m");
            for (int x = 0; x < modules.getWidth(); x++) {
                boolean top = modules.get(x, y);
                boolean bottom = y + 1 < modules.getHeight() && modules.get(x, y + 1);
                out.append(top ? (bottom ? '█' : '▀') : (bottom ? '▄' : ' '));
            }
            out.append("\033[0m\n");
        }
        return out.toString();
    }
}
