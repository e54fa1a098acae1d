package org.hearth.mail.outbound.delivery;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;

/**
 * The TLS context for opportunistic STARTTLS (RFC 7435): encryption against passive listeners,
 * no certificate check, since most MX certificates would not pass one and failing would mean
 * plaintext instead. Destinations that publish MTA-STS or DANE get checked TLS instead (to come).
 */
public final class OpportunisticTls {

    private OpportunisticTls() {
    }

    public static SSLContext context() {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, new TrustManager[]{new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this Java runtime", e);
        }
    }
}
