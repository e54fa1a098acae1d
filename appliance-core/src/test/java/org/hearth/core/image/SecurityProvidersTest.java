package org.hearth.core.image;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SecurityProvidersTest {

    /** JDK 17's list, as Debian's openjdk-17 ships it. */
    private static final String JDK17 = """
            #
            # List of providers and their preference orders (see above):
            #
            security.provider.1=SUN
            security.provider.2=SunRsaSign
            security.provider.3=SunEC
            security.provider.4=SunJSSE
            security.provider.5=SunJCE
            security.provider.6=SunJGSS
            security.provider.7=SunSASL
            security.provider.8=XMLDSig
            security.provider.9=SunPCSC
            security.provider.10=JdkLDAP
            security.provider.11=JdkSASL
            security.provider.12=SunPKCS11
            #security.provider.13=Commented
            securerandom.source=file:/dev/random
            """;

    @Test
    void providersWhoseModulesTheRuntimeLacksAreDroppedAndTheRestNumberedWithoutGaps() {
        String trimmed = SecurityProviders.onlyPresent(JDK17,
                Set.of("java.base", "jdk.crypto.ec", "java.security.sasl", "java.naming", "java.xml"));
        assertThat(trimmed).contains("""
                # List of providers and their preference orders (see above):
                #
                security.provider.1=SUN
                security.provider.2=SunRsaSign
                security.provider.3=SunEC
                security.provider.4=SunJSSE
                security.provider.5=SunJCE
                security.provider.6=SunSASL
                security.provider.7=JdkLDAP
                #security.provider.13=Commented
                securerandom.source=file:/dev/random
                """);
        assertThat(trimmed).doesNotContain("SunJGSS", "XMLDSig", "SunPCSC", "JdkSASL", "SunPKCS11", "security.provider.8");
    }

    @Test
    void aProviderTheTableDoesNotKnowIsKeptWithItsArguments() {
        assertThat(SecurityProviders.onlyPresent("security.provider.1=SUN\nsecurity.provider.2=SunPKCS11\n"
                + "security.provider.3=com.example.Vendor /etc/vendor.cfg\n", Set.of("java.base")))
                .isEqualTo("security.provider.1=SUN\nsecurity.provider.2=com.example.Vendor /etc/vendor.cfg\n");
    }

    @Test
    void aRuntimeWithEveryProvidersModuleKeepsThemAll() {
        assertThat(SecurityProviders.onlyPresent(JDK17, Set.of("java.base", "jdk.crypto.ec", "java.security.jgss",
                "java.security.sasl", "java.xml.crypto", "java.smartcardio", "java.naming", "jdk.security.jgss",
                "jdk.crypto.cryptoki"))).contains("security.provider.12=SunPKCS11");
    }
}
