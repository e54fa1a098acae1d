package org.hearth.mail.outbound.dkim;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/** One signing key of a domain, published under {@code selector._domainkey.domain}. */
public record DkimKey(String domain, String selector, DkimAlgorithm algorithm, PrivateKey privateKey, PublicKey publicKey) {

    /** An X.509 SubjectPublicKeyInfo of an Ed25519 key is a fixed 12-byte prefix and the 32-byte key. */
    private static final int ED25519_RAW = 32;
    /** A TXT record's strings are at most 255 bytes each (RFC 1035 §3.3.14). */
    private static final int TXT_STRING = 255;

    /** The DNS name the key is published under. */
    public String dnsName() {
        return selector + "._domainkey." + domain;
    }

    /**
     * The TXT record's text (RFC 6376 §3.6.1). RSA: p= is the SubjectPublicKeyInfo, as for every RSA
     * DKIM key; Ed25519: p= is the bare 32-byte key (RFC 8463 §4), not its X.509 wrapping.
     */
    public String txtValue() {
        byte[] encoded = publicKey.getEncoded();
        byte[] p = algorithm == DkimAlgorithm.ED25519_SHA256
                ? Arrays.copyOfRange(encoded, encoded.length - ED25519_RAW, encoded.length)
                : encoded;
        return "v=DKIM1; k=" + algorithm.keyType() + "; p=" + Base64.getEncoder().encodeToString(p);
    }

    /** The record as a zone file line: an RSA key's text is longer than one TXT string may be, so it is split. */
    public String zoneLine() {
        String text = txtValue();
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < text.length(); i += TXT_STRING) {
            parts.add("\"" + text.substring(i, Math.min(text.length(), i + TXT_STRING)) + "\"");
        }
        return dnsName() + ". 3600 IN TXT " + String.join(" ", parts);
    }
}
