package org.hearth.mail.outbound.delivery;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * DANE for SMTP (RFC 7672): a domain whose MX records are signed (DNSSEC) and whose MX hosts
 * publish signed TLSA records has said which certificate or CA its servers use; mail to them goes
 * only over STARTTLS with a certificate those records match, whatever any CA says. Validation is
 * done here (dnsjava's validating resolver, from the root's trust anchors), not taken from the
 * resolver's AD bit, which anyone between the appliance and the resolver could set.
 */
public final class Dane {

    private static final Logger LOG = LoggerFactory.getLogger(Dane.class);

    /** What DNSSEC says about one lookup. */
    public sealed interface Tlsa {
    }

    /** Secure and present: the usable records (DANE-TA(2) and DANE-EE(3)); empty means encrypt, but any certificate. */
    public record Records(List<TLSARecord> usable) implements Tlsa {
    }

    /** Not signed, or securely absent: DANE does not apply. */
    public record None() implements Tlsa {
    }

    /** The answer did not validate, or could not be had: that host must not get the mail now (RFC 7672 §2.2). */
    public record Failed(String reason) implements Tlsa {
    }

    /** What DNSSEC says about a domain's MX records. */
    public sealed interface Mx {
    }

    /** Signed: only these hosts (lower case, no final dot) may get the mail, and their TLSA records count. */
    public record SignedMx(Set<String> hosts) implements Mx {
    }

    /** Not signed, or the resolver carries no DNSSEC at all: DANE does not apply. */
    public record UnsignedMx() implements Mx {
    }

    /** The answer should have validated and did not, or none came: the mail waits (RFC 7672 §2.2.1). */
    public record FailedMx(String reason) implements Mx {
    }

    private final ValidatingResolver resolver;
    private final List<Name> anchorNames = new ArrayList<>();
    private final Optional<Path> dnssecSeen;
    private static final Duration PROBE_AGAIN_AFTER = Duration.ofMinutes(10);
    /** When a probe last found no DNSSEC through the resolver ({@link System#nanoTime}); long ago at first. */
    private volatile long unavailableSince = System.nanoTime() - PROBE_AGAIN_AFTER.toNanos();

    /**
     * @param head       the resolver the appliance uses (asked with the DO bit; its own AD bit is ignored)
     * @param anchors    trust anchors in zone-file form (DS or DNSKEY records); the root's by {@link #rootAnchors}
     * @param dnssecSeen a file that records, once, that DNSSEC validated through this resolver (on the
     *                   volume, named for the resolver): from then on a failure makes mail wait
     */
    public Dane(Resolver head, InputStream anchors, Optional<Path> dnssecSeen) throws IOException {
        head.setEDNS(0, 4096, Flags.DO);
        head.setTimeout(Duration.ofSeconds(10));
        this.resolver = new ValidatingResolver(head);
        byte[] text = anchors.readAllBytes();
        resolver.loadTrustAnchors(new ByteArrayInputStream(text));
        // The owner names, read as loosely as the validator reads the records (the root's come without TTLs).
        for (String line : new String(text, StandardCharsets.US_ASCII).split("\n")) {
            String record = line.replaceAll(";.*", "");
            if (!record.isBlank() && !Character.isWhitespace(record.charAt(0))) {
                anchorNames.add(Name.fromString(record.split("\\s+")[0], Name.root));
            }
        }
        this.dnssecSeen = dnssecSeen;
    }

    public static InputStream rootAnchors() {
        return Dane.class.getResourceAsStream("root-anchors.ds");
    }

    /**
     * What DNSSEC says of {@code domain}'s MX records (RFC 7672 §2.2.1). Signed: the hosts they
     * name, which alone may get the mail (the plain answer delivery routed by may have been forged
     * on the way), or the domain itself when it securely has none (its address records stand in).
     * Unsigned: DANE does not apply. A signed answer that does not validate, or none: failed.
     */
    public Mx mx(String domain) {
        Message m = ask(domain, Type.MX);
        boolean secure = m != null && m.getHeader().getFlag(Flags.AD);
        if (secure && m.getRcode() == Rcode.NOERROR) {
            remember();
            Set<String> hosts = new TreeSet<>();
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof MXRecord mx) {
                    hosts.add(hostName(mx.getTarget().toString()));
                }
            }
            return new SignedMx(hosts.isEmpty() ? Set.of(hostName(domain)) : Set.copyOf(hosts));
        }
        if (secure) {
            // Signed: no such domain. Whatever the plain answer routed by named, it was not this.
            return new FailedMx("MX " + domain + ": DNSSEC says the domain does not exist");
        }
        if (m != null && (m.getRcode() == Rcode.NOERROR || m.getRcode() == Rcode.NXDOMAIN)) {
            return new UnsignedMx();
        }
        // Bogus (the validator answers SERVFAIL) or no answer. Stripped signatures look the same as a
        // resolver that never carried DNSSEC (many home routers): that one turns DANE off, once it
        // has been seen to, this one makes mail wait.
        if (!carriesDnssec()) {
            return new UnsignedMx();
        }
        return new FailedMx("MX " + domain + (m == null ? ": no answer" : " did not validate (DNSSEC)")
                + "; not delivering where an unchecked answer points");
    }

    /**
     * Whether DNSSEC has validated through this resolver: ever before, or now (the anchors' own
     * DNSKEY records). A failed probe is believed for ten minutes, and said once in the log.
     */
    private boolean carriesDnssec() {
        if (dnssecSeen.isPresent() && Files.exists(dnssecSeen.get())) {
            return true;
        }
        if (System.nanoTime() - unavailableSince < PROBE_AGAIN_AFTER.toNanos()) {
            return false;
        }
        for (Name anchor : anchorNames) {
            Message m = ask(anchor.toString(), Type.DNSKEY);
            if (m != null && m.getRcode() == Rcode.NOERROR && m.getHeader().getFlag(Flags.AD)) {
                remember();
                return true;
            }
        }
        unavailableSince = System.nanoTime();
        LOG.warn("event=dane-unavailable detail=\"the resolver carries no DNSSEC (the trust anchors' keys do not validate"
                + " through it): DANE protects no mail; asked again in {} minutes\"", PROBE_AGAIN_AFTER.toMinutes());
        return false;
    }

    private void remember() {
        if (dnssecSeen.isEmpty() || Files.exists(dnssecSeen.get())) {
            return;
        }
        try {
            Files.createDirectories(dnssecSeen.get().getParent());
            Files.writeString(dnssecSeen.get(), "DNSSEC validated through this resolver\n");
        } catch (IOException e) {
            LOG.warn("event=dane-remember-failed file={} error={}", dnssecSeen.get(), e.getMessage());
        }
    }

    /** A host name as {@link SignedMx} holds them. */
    public static String hostName(String name) {
        return name.replaceAll("\\.$", "").toLowerCase(Locale.ROOT);
    }

    /** The TLSA records of {@code host}'s SMTP port, as DNSSEC vouches for them. */
    public Tlsa tlsa(String host, int port) {
        String name = "_" + port + "._tcp." + host.replaceAll("\\.$", "");
        Message m = ask(name, Type.TLSA);
        if (m == null) {
            return new Failed("TLSA " + name + ": no answer");
        }
        boolean secure = m.getHeader().getFlag(Flags.AD);
        if (m.getRcode() == Rcode.SERVFAIL) {
            return new Failed("TLSA " + name + " did not validate (DNSSEC)");
        }
        if (!secure || m.getRcode() == Rcode.NXDOMAIN) {
            return new None();
        }
        List<TLSARecord> usable = new ArrayList<>();
        boolean any = false;
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof TLSARecord t) {
                any = true;
                // PKIX-TA(0) and PKIX-EE(1) are not for SMTP (RFC 7672 §3.1.3); unknown selectors and types neither.
                if ((t.getCertificateUsage() == 2 || t.getCertificateUsage() == 3) && t.getSelector() <= 1
                        && t.getMatchingType() <= 2) {
                    usable.add(t);
                }
            }
        }
        return any ? new Records(List.copyOf(usable)) : new None();
    }

    private Message ask(String name, int type) {
        try {
            return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."),
                    type, DClass.IN)));
        } catch (TextParseException e) {
            return null;
        } catch (IOException e) {
            LOG.debug("event=dane-lookup-failed name={} error={}", name, e.getMessage());
            return null;
        }
    }

    /**
     * TLS that accepts exactly what the records allow: a DANE-EE(3) record's match on the server's
     * own certificate (names and dates do not matter then, RFC 7672 §3.1.1), or a DANE-TA(2)
     * record's match on a certificate in the chain the server sent that signs down to the server's,
     * whose name must be {@code host}. No usable record at all: encrypted, any certificate (§2.2).
     */
    public static SSLContext context(List<TLSARecord> records, String host) {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, new X509TrustManager[]{trustManager(records, host)}, null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this Java runtime", e);
        }
    }

    static X509TrustManager trustManager(List<TLSARecord> records, String host) {
        return new Matcher(records, host);
    }

    private record Matcher(List<TLSARecord> records, String host) implements X509TrustManager {

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (records.isEmpty()) {
                return;
            }
            for (TLSARecord r : records) {
                if (r.getCertificateUsage() == 3 && matches(r, chain[0])) {
                    return;
                }
                if (r.getCertificateUsage() == 2) {
                    for (int i = 0; i < chain.length; i++) {
                        if (matches(r, chain[i]) && signsDown(chain, i) && Names.match(chain[0], host)) {
                            return;
                        }
                    }
                }
            }
            throw new CertificateException("the certificate of " + host + " matches none of its TLSA records");
        }

        /** Each certificate from the server's own up to {@code top} is signed by the next. */
        private static boolean signsDown(X509Certificate[] chain, int top) {
            try {
                for (int i = 0; i < top; i++) {
                    chain[i].verify(chain[i + 1].getPublicKey());
                }
                chain[top].checkValidity();
                return true;
            } catch (GeneralSecurityException e) {
                return false;
            }
        }

        private static boolean matches(TLSARecord r, X509Certificate cert) {
            try {
                byte[] data = r.getSelector() == 0 ? cert.getEncoded() : cert.getPublicKey().getEncoded();
                byte[] digest = switch (r.getMatchingType()) {
                    case 0 -> data;
                    case 1 -> MessageDigest.getInstance("SHA-256").digest(data);
                    default -> MessageDigest.getInstance("SHA-512").digest(data);
                };
                return Arrays.equals(digest, r.getCertificateAssociationData());
            } catch (GeneralSecurityException e) {
                return false;
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client's certificate is never checked here");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** The server's names (subjectAltName dNSName, RFC 6125), a wildcard standing for one leftmost label. */
    static final class Names {
        private Names() {
        }

        static boolean match(X509Certificate cert, String host) {
            String h = host.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
            try {
                if (cert.getSubjectAlternativeNames() == null) {
                    return false;
                }
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        String n = san.get(1).toString().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
                        if (n.equals(h) || (n.startsWith("*.") && h.indexOf('.') > 0 && h.substring(h.indexOf('.') + 1).equals(n.substring(2)))) {
                            return true;
                        }
                    }
                }
            } catch (CertificateException e) {
                return false;
            }
            return false;
        }
    }
}
