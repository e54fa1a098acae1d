package org.hearth.core.certificates;

import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.hearth.core.Backoff;
import org.hearth.core.OwnerOnlyFile;
import org.hearth.core.pairing.BoxIdentity;
import org.hearth.core.pairing.DnsCheck;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.pairing.RegistryClient;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Dns01Challenge;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Security;
import java.time.Duration;
import java.time.Instant;
import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.ownerapp.OwnerAppServer;
import org.hearth.core.supervisor.InstalledApps;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Keeps a paired box's certificates from an ACME CA: one per host name its apps' containers declare
 * ({@code certificate: mail.${box.domain}}), each with a key of its own, so the internet-facing MX
 * holds no key of the owner's services. Control is proven with DNS-01: the challenge's TXT record goes
 * out through the registry with the box's other records, signed with its key, and comes down again
 * once the CA has looked. The files on disk are looked at every few seconds (cheap), so a name an
 * app comes to want is certified at once; each is renewed {@link BoxCertificate#RENEW_BEFORE} before expiry. A host
 * whose attempt failed waits before the next, longer after each failure ({@link #RETRY}: Let's
 * Encrypt allows 5 failed validations per host and account an hour, and a box retrying every few
 * minutes would soon be refused for that alone), while the other hosts go on; the owner's
 * {@code hearth certificate renew} tries at once. The certificate in use stays until a new one is
 * whole on disk (the supervisor then hands it to the containers, which take it at their next
 * handshake).
 */
public final class CertificateAgent implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(CertificateAgent.class);
    private static final Duration LOOK_EVERY = Duration.ofSeconds(5);
    /** After a host's failures in a row: 10 minutes, doubling, at most 6 hours. */
    static final Backoff RETRY = new Backoff(Duration.ofMinutes(10), Duration.ofHours(6));
    private static final Duration CA_WAIT = Duration.ofMinutes(2);

    private final AcmeConfig config;
    private final Path dir;
    private final PairingState pairing;
    private final RegistryClient registry;
    private final BoxIdentity identity;
    private final Function<String, Map<String, List<String>>> certificates;
    private volatile boolean running = true;
    /** Hosts whose last attempt failed: how many times in a row, and when to try again. */
    private final Map<String, Failing> failing = new java.util.HashMap<>();

    private record Failing(int failures, Instant retryAt) {
    }

    static {
        // acme4j makes keys and CSRs with Bouncy Castle's provider, by name.
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
    }

    /**
     * @param dir   the state folder's {@code certificates/}: the ACME account key, and a folder per host
     * @param certificates the certificates the installed apps want, given the box's domain: each by the host
     *                     that names it, with all its host names
     */
    public CertificateAgent(AcmeConfig config, Path dir, PairingState pairing, RegistryClient registry, BoxIdentity identity,
                            Function<String, Map<String, List<String>>> certificates) {
        this.config = config;
        this.dir = dir;
        this.pairing = pairing;
        this.registry = registry;
        this.identity = identity;
        this.certificates = certificates;
    }

    /**
     * The certificates a box named {@code domain} keeps: each its installed apps' containers declare
     * ({@code certificate:}), and its owner app's ({@code box.NAME}) unless appliance.yaml turns that off.
     */
    public static Map<String, List<String>> wanted(HearthHome home, String domain) {
        Map<String, List<String>> wanted = new java.util.TreeMap<>(new InstalledApps(home.stateDir("apps")).certificates(domain));
        if (ApplianceConfig.read(home).ownerApp().enabled()) {
            wanted.put(OwnerAppServer.host(domain), List.of(OwnerAppServer.host(domain)));
        }
        return wanted;
    }

    public void stop() {
        running = false;
    }

    @Override
    public void run() {
        while (running) {
            try {
                Optional<PairingState.Published> published = pairing.published();
                if (published.isPresent()) {
                    for (Map.Entry<String, List<String>> wanted : certificates.apply(published.get().domain()).entrySet()) {
                        String host = wanted.getKey();
                        // One host failing (its CA refusing, say) does not hold up the others.
                        try {
                            renewIfDue(published.get(), host, wanted.getValue());
                            failing.remove(host);
                        } catch (InterruptedException e) {
                            throw e;
                        } catch (Exception e) {
                            int failures = failing.containsKey(host) ? failing.get(host).failures() + 1 : 1;
                            Duration wait = RETRY.after(failures);
                            failing.put(host, new Failing(failures, Instant.now().plus(wait)));
                            LOG.warn("event=certificate-failed host={} ca={} failures={} retry_min={} error=\"{}\"", host,
                                    config.directory(), failures, wait.toMinutes(), e.getMessage());
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException e) {
                LOG.warn("event=certificate-failed error=\"cannot read what the box published: {}\"", e.getMessage());
            }
            try {
                Thread.sleep(LOOK_EVERY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The certificate named {@code host}, for all of {@code names}, obtained if missing, due, asked for, or short of a name. */
    private void renewIfDue(PairingState.Published published, String host, List<String> names) throws Exception {
        Path folder = BoxCertificate.folder(dir, host);
        Optional<BoxCertificate> current = BoxCertificate.read(folder);
        Path asked = folder.resolve(BoxCertificate.RENEW_ASKED);
        boolean forced = Files.exists(asked);
        if (current.isPresent() && Instant.now().isBefore(current.get().renewFrom()) && current.get().names().containsAll(names)
                && !forced) {
            return;
        }
        Failing failed = failing.get(host);
        if (failed != null && Instant.now().isBefore(failed.retryAt()) && !forced) {
            return;
        }
        long start = System.nanoTime();
        BoxCertificate made;
        try {
            made = obtain(published, names, folder);
        } finally {
            // The owner's ask is tried once, here: a failed one falls back to the backoff, not to every look.
            Files.deleteIfExists(asked);
        }
        LOG.info("event=certificate-obtained host={} not_after={} asked={} ms={}", host, made.notAfter(), forced,
                (System.nanoTime() - start) / 1_000_000);
    }

    private BoxCertificate obtain(PairingState.Published published, List<String> names, Path folder) throws Exception {
        String domain = published.domain();
        Session session = new Session(config.directory(), new TrustingAcmeProvider(config.trust()));
        Account account = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey()).create(session);
        Order order = account.newOrder().domains(names).create();
        List<Map<String, String>> challenges = new ArrayList<>();
        List<Dns01Challenge> pending = new ArrayList<>();
        for (Authorization auth : order.getAuthorizations()) {
            if (auth.getStatus() == Status.VALID) {
                continue;
            }
            String name = auth.getIdentifier().getDomain();
            Dns01Challenge challenge = auth.findChallenge(Dns01Challenge.class).orElseThrow(() ->
                    new IOException("the CA offers no dns-01 challenge for " + name));
            String owner = Dns01Challenge.toRRName(auth.getIdentifier());
            owner = owner.substring(0, owner.length() - (domain.length() + 2));
            challenges.add(Map.of("owner", owner, "type", "TXT", "data", "\"" + challenge.getDigest() + "\""));
            pending.add(challenge);
        }
        try {
            if (!challenges.isEmpty()) {
                List<Map<String, String>> with = new ArrayList<>(published.records());
                with.addAll(challenges);
                registry.putRecords(identity, with);
                awaitPublished(published, challenges);
                for (Dns01Challenge c : pending) {
                    c.trigger();
                }
                for (Dns01Challenge c : pending) {
                    if (c.waitForCompletion(CA_WAIT) != Status.VALID) {
                        throw new IOException("the CA did not accept the dns-01 challenge: "
                                + c.getError().map(Object::toString).orElse("no reason given"));
                    }
                }
            }
            KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
            order.execute(key);
            if (order.waitForCompletion(CA_WAIT) != Status.VALID) {
                throw new IOException("the CA did not issue the certificate: "
                        + order.getError().map(Object::toString).orElse("no reason given"));
            }
            StringWriter chain = new StringWriter();
            order.getCertificate().writeCertificate(chain);
            Files.createDirectories(folder);
            // The key first, then the chain that names it: a reader that finds the chain finds its key.
            OwnerOnlyFile.write(folder.resolve(BoxCertificate.KEY), pkcs8(key));
            OwnerOnlyFile.write(folder.resolve(BoxCertificate.CHAIN), chain.toString());
            return BoxCertificate.read(folder).orElseThrow();
        } finally {
            if (!challenges.isEmpty()) {
                registry.putRecords(identity, published.records());
            }
        }
    }

    /** Until the zone's servers answer the challenges: the CA asks them, perhaps before a secondary has them. */
    private static void awaitPublished(PairingState.Published published, List<Map<String, String>> challenges)
            throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(CA_WAIT);
        for (Map<String, String> c : challenges) {
            String name = c.get("owner") + "." + published.domain() + ".";
            while (!DnsCheck.checkSet(published.nameservers(), name, "TXT", List.of(c.get("data"))).ok()) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IOException(name + " TXT did not appear at " + published.nameservers() + " within "
                            + CA_WAIT.toMinutes() + " minutes");
                }
                Thread.sleep(1000);
            }
        }
    }

    /** The box's ACME account key (EC P-256), made the first time and kept owner-only. */
    private KeyPair accountKey() throws IOException {
        Path file = dir.resolve("account-key.pem");
        if (Files.isRegularFile(file)) {
            try (var in = Files.newBufferedReader(file)) {
                return KeyPairUtils.readKeyPair(in);
            }
        }
        KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
        StringWriter pem = new StringWriter();
        KeyPairUtils.writeKeyPair(key, pem);
        Files.createDirectories(dir);
        OwnerOnlyFile.write(file, pem.toString());
        return key;
    }

    /** The private key as PEM PKCS#8, which both the JDK (with Bouncy Castle's reader) and OpenSSL take as it is. */
    private static String pkcs8(KeyPair key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

}
