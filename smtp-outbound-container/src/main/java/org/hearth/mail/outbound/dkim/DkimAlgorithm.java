package org.hearth.mail.outbound.dkim;

/** The two signing algorithms every message gets, as DKIM names them (a= in the signature, k= in DNS). */
public enum DkimAlgorithm {
    /** RFC 6376: every verifier knows it. 2,048-bit keys (RFC 8301). */
    RSA_SHA256("rsa-sha256", "rsa", "RSA", "rsa"),
    /** RFC 8463: short keys and signatures; verifiers that do not know it ignore it and use the RSA one. */
    ED25519_SHA256("ed25519-sha256", "ed25519", "Ed25519", "ed");

    private final String signatureName;
    private final String keyType;
    private final String jcaKeyAlgorithm;
    private final String selectorPrefix;

    DkimAlgorithm(String signatureName, String keyType, String jcaKeyAlgorithm, String selectorPrefix) {
        this.signatureName = signatureName;
        this.keyType = keyType;
        this.jcaKeyAlgorithm = jcaKeyAlgorithm;
        this.selectorPrefix = selectorPrefix;
    }

    /** The a= tag of a DKIM-Signature. */
    public String signatureName() {
        return signatureName;
    }

    /** The k= tag of the DNS key record. */
    public String keyType() {
        return keyType;
    }

    String jcaKeyAlgorithm() {
        return jcaKeyAlgorithm;
    }

    /** Selectors of this algorithm's keys start with this, so a selector says which key it is. */
    String selectorPrefix() {
        return selectorPrefix;
    }

    static DkimAlgorithm ofSelector(String selector) {
        for (DkimAlgorithm a : values()) {
            if (selector.startsWith(a.selectorPrefix + "-")) {
                return a;
            }
        }
        throw new IllegalArgumentException("selector " + selector + " names no known algorithm (rsa-… or ed-…)");
    }
}
