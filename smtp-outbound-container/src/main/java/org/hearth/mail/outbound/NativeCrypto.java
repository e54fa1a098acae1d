package org.hearth.mail.outbound;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.Security;

/**
 * Amazon Corretto Crypto Provider (AWS-LC behind the JCA) first among the providers, so DKIM's RSA
 * signatures, the keys DkimKeys parses and TLS's ciphers and key exchange run in native code: the
 * container's JIT is C1 only (for memory), without the intrinsics that make the JDK's own RSA and
 * AES-GCM fast, and RSA-2048 signing took 11 ms a message there, 0.7 ms here. Where the native
 * library cannot load (another architecture, a missing file) the JDK's providers do the same work,
 * slower, and the log says so.
 */
public final class NativeCrypto {

    private static final Logger LOG = LoggerFactory.getLogger(NativeCrypto.class);

    private NativeCrypto() {
    }

    /** Puts the provider first when its library loads and passes its self-tests; true if it did. */
    public static boolean install() {
        AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
        Throwable notLoaded = accp.getLoadingError();
        if (notLoaded == null) {
            try {
                accp.assertHealthy();
            } catch (RuntimeException failed) {
                notLoaded = failed;
            }
        }
        if (notLoaded != null) {
            LOG.warn("event=native-crypto installed=false error=\"{}\" detail=\"the JDK's providers sign and encrypt instead (slower)\"",
                    notLoaded.toString().replace('"', '\''));
            return false;
        }
        if (Security.getProviders()[0] != accp) {
            AmazonCorrettoCryptoProvider.install();
        }
        LOG.info("event=native-crypto installed=true provider={} aws-lc={}", accp.getVersionStr(), accp.getAwsLcVersionStr());
        return true;
    }
}
