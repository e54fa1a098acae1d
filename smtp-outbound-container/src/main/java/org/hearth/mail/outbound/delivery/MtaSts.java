package org.hearth.mail.outbound.delivery;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SMTP MTA Strict Transport Security (RFC 8461): a domain that publishes a policy names its MX
 * hosts and asks that they be reached only over TLS with a certificate valid for their names, so
 * that an attacker on the path can neither strip STARTTLS nor send the mail to a host of its own.
 * The policy is announced in DNS ({@code _mta-sts.DOMAIN} TXT, with an id), fetched over HTTPS
 * from {@code mta-sts.DOMAIN} with the certificate checked and no redirects, and cached on the
 * queue's volume for its max_age: a fetch or a DNS answer that fails later (an attacker's doing,
 * perhaps) leaves the cached policy in force, which is the point of the cache.
 */
public final class MtaSts {

    private static final Logger LOG = LoggerFactory.getLogger(MtaSts.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** RFC 8461 §3.3: policies are small; anything bigger is refused. */
    private static final int MAX_POLICY_BYTES = 64 * 1024;
    /** RFC 8461 §3.2: max_age is at most a year. */
    private static final long MAX_AGE_LIMIT = 31_557_600;
    /**
     * How long one fetch may take in all, connection and TLS included. The socket timeouts alone
     * would let a host that sends a byte now and then hold a delivery thread for hours.
     */
    private static final Duration FETCH_DEADLINE = Duration.ofSeconds(60);
    /** Cancels the fetches that outrun their deadline; one daemon thread for every instance. */
    private static final ScheduledThreadPoolExecutor DEADLINES = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "mta-sts-deadline");
        t.setDaemon(true);
        return t;
    });

    static {
        // A fetch that ends in time takes its deadline out of the queue at once.
        DEADLINES.setRemoveOnCancelPolicy(true);
    }

    public enum Mode { ENFORCE, TESTING, NONE }

    /**
     * One domain's policy.
     *
     * @param mx the MX name patterns ({@code mail.example.com}, or {@code *.example.com} for one more label)
     */
    public record Policy(String id, Mode mode, List<String> mx, long maxAge, Instant fetched) {

        public boolean expired(Instant now) {
            return !now.isBefore(fetched.plusSeconds(maxAge));
        }

        /** Whether an MX host is one the policy names (RFC 8461 §4.1): a wildcard stands for exactly one label. */
        public boolean matches(String host) {
            String h = host.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
            for (String pattern : mx) {
                String p = pattern.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
                if (p.startsWith("*.")) {
                    int dot = h.indexOf('.');
                    if (dot > 0 && h.substring(dot + 1).equals(p.substring(2))) {
                        return true;
                    }
                } else if (h.equals(p)) {
                    return true;
                }
            }
            return false;
        }

        /** The policy file's text (RFC 8461 §3.2): key: value lines; unknown keys are ignored, as the RFC asks. */
        static Policy parse(String id, String text, Instant fetched) throws IOException {
            Map<String, String> single = new HashMap<>();
            List<String> mx = new ArrayList<>();
            for (String line : text.split("\r?\n")) {
                int colon = line.indexOf(':');
                if (line.isBlank() || colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).strip();
                String value = line.substring(colon + 1).strip();
                if (key.equals("mx")) {
                    mx.add(value);
                } else {
                    single.putIfAbsent(key, value);
                }
            }
            if (!"STSv1".equals(single.get("version"))) {
                throw new IOException("the policy's version is " + single.get("version") + ", not STSv1");
            }
            Mode mode;
            try {
                mode = Mode.valueOf(single.getOrDefault("mode", "").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IOException("the policy's mode is \"" + single.get("mode") + "\", not enforce, testing or none");
            }
            String age = single.getOrDefault("max_age", "");
            if (!age.matches("\\d{1,10}")) {
                throw new IOException("the policy's max_age is \"" + age + "\", not a number of seconds");
            }
            if (mode != Mode.NONE && mx.isEmpty()) {
                throw new IOException("the policy names no mx");
            }
            return new Policy(id, mode, List.copyOf(mx), Math.min(Long.parseLong(age), MAX_AGE_LIMIT), fetched);
        }
    }

    private final Resolver resolver;
    private final SSLContext tls;
    private final CloseableHttpClient https;
    private final int httpsPort;
    private final Path cache;
    private final InstantSource clock;
    private final Duration fetchDeadline;

    /**
     * @param tls       the public CAs (and any the owner added): the policy host's certificate is checked
     * @param httpsPort 443; a test's server elsewhere
     * @param cache     a folder on the queue's volume, kept across restarts
     */
    public MtaSts(Resolver resolver, SSLContext tls, int httpsPort, Path cache, InstantSource clock) throws IOException {
        this(resolver, tls, httpsPort, cache, clock, FETCH_DEADLINE);
    }

    /** As above, with a fetch deadline of the caller's (a test's, shorter). */
    MtaSts(Resolver resolver, SSLContext tls, int httpsPort, Path cache, InstantSource clock, Duration fetchDeadline)
            throws IOException {
        this.fetchDeadline = fetchDeadline;
        this.resolver = resolver;
        this.tls = tls;
        // RFC 8461 §3.3: the policy host's certificate is checked for its name (the JDK's own check),
        // redirects are not followed. Its address comes from the resolver, as every other name this
        // service looks up: the container's system resolver answers only the app's own names.
        this.https = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(addressesFrom(new MxResolver(resolver)))
                        .setTlsSocketStrategy(ClientTlsStrategyBuilder.create().setSslContext(tls)
                                .setHostVerificationPolicy(HostnameVerificationPolicy.BUILTIN).buildClassic())
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(20))
                                .setSocketTimeout(Timeout.ofSeconds(30)).build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(Timeout.ofSeconds(30)).build())
                .disableRedirectHandling()
                // A policy is fetched once per id and domain: no connection is kept for the next.
                .setConnectionReuseStrategy((request, response, context) -> false)
                .disableCookieManagement()
                .disableAuthCaching()
                .disableContentCompression()
                .build();
        this.httpsPort = httpsPort;
        this.cache = Files.createDirectories(cache);
        this.clock = clock;
    }

    /** The trust for the policy hosts and for the MX hosts of enforced policies. */
    public SSLContext tls() {
        return tls;
    }

    /** The policy in force for {@code domain}, if any: fresh from the domain, or cached and not expired. */
    public Optional<Policy> policy(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        Instant now = clock.instant();
        Optional<Policy> cached = cached(d).filter(p -> !p.expired(now));
        Optional<String> id;
        try {
            id = announcedId(d);
        } catch (IOException dnsTrouble) {
            return cached;
        }
        if (id.isEmpty() || (cached.isPresent() && cached.get().id().equals(id.get()))) {
            // No record: a cached policy stays in force until it expires (§5.1); the same id: nothing new.
            return cached;
        }
        try {
            Policy fresh = Policy.parse(id.get(), fetch(d), now);
            store(d, fresh);
            LOG.info("event=mta-sts-policy domain={} id={} mode={} mx={} max_age={}", d, fresh.id(),
                    fresh.mode().name().toLowerCase(Locale.ROOT), fresh.mx(), fresh.maxAge());
            return Optional.of(fresh);
        } catch (IOException failed) {
            LOG.warn("event=mta-sts-fetch-failed domain={} error={} cached={}", d, failed.getMessage(), cached.isPresent());
            return cached;
        }
    }

    /** The id of the TXT record that says a policy exists (RFC 8461 §3.1); empty when there is none. */
    private Optional<String> announcedId(String domain) throws IOException {
        Lookup l;
        try {
            l = new Lookup(Name.fromString("_mta-sts." + domain + "."), Type.TXT);
        } catch (TextParseException e) {
            return Optional.empty();
        }
        l.setResolver(resolver);
        l.setCache(null);
        l.setSearchPath((Name[]) null);
        l.run();
        if (l.getResult() == Lookup.HOST_NOT_FOUND || l.getResult() == Lookup.TYPE_NOT_FOUND) {
            return Optional.empty();
        }
        if (l.getResult() != Lookup.SUCCESSFUL) {
            throw new IOException("TXT _mta-sts." + domain + ": " + l.getErrorString());
        }
        List<String> ids = new ArrayList<>();
        for (Record r : l.getAnswers()) {
            if (r instanceof TXTRecord txt) {
                String text = String.join("", txt.getStrings());
                if (text.startsWith("v=STSv1;") || text.equals("v=STSv1")) {
                    for (String field : text.split(";")) {
                        String f = field.strip();
                        if (f.startsWith("id=")) {
                            ids.add(f.substring(3));
                        }
                    }
                }
            }
        }
        // More than one STSv1 record is treated as none (§3.1).
        return ids.size() == 1 && ids.get(0).matches("[A-Za-z0-9]{1,32}") ? Optional.of(ids.get(0)) : Optional.empty();
    }

    private String fetch(String domain) throws IOException {
        URI uri = URI.create("https://mta-sts." + domain + (httpsPort == 443 ? "" : ":" + httpsPort) + "/.well-known/mta-sts.txt");
        HttpGet get = new HttpGet(uri);
        AtomicBoolean late = new AtomicBoolean();
        ScheduledFuture<?> deadline = DEADLINES.schedule(() -> {
            late.set(true);
            get.cancel();
        }, fetchDeadline.toMillis(), TimeUnit.MILLISECONDS);
        try {
            return fetch(get, uri);
        } catch (IOException | RuntimeException failed) {
            if (late.get()) {
                throw new IOException(uri + " did not answer in full within " + fetchDeadline.toSeconds() + " s", failed);
            }
            throw failed;
        } finally {
            deadline.cancel(false);
        }
    }

    private String fetch(HttpGet get, URI uri) throws IOException {
        // Every refusal cancels the exchange first: closing a body otherwise reads the rest of it,
        // which a hostile policy host could make endless.
        return https.execute(get, response -> {
            if (response.getCode() != 200) {
                throw refused(get, uri + " answered " + response.getCode());
            }
            Header type = response.getFirstHeader("Content-Type");
            String mediaType = type == null ? "" : type.getValue();
            if (!mediaType.toLowerCase(Locale.ROOT).startsWith("text/plain")) {
                throw refused(get, uri + " is \"" + mediaType + "\", not text/plain");
            }
            if (response.getEntity() == null) {
                throw refused(get, uri + " answered 200 without a body");
            }
            InputStream body = response.getEntity().getContent();
            byte[] bytes = body.readNBytes(MAX_POLICY_BYTES + 1);
            if (bytes.length > MAX_POLICY_BYTES) {
                throw refused(get, uri + " is larger than " + MAX_POLICY_BYTES + " bytes");
            }
            body.close();
            return new String(bytes, StandardCharsets.UTF_8);
        });
    }

    private static IOException refused(HttpGet get, String why) {
        get.cancel();
        return new IOException(why);
    }

    /** A host's addresses as the resolver gives them; a failed or empty lookup is an unknown host. */
    private static DnsResolver addressesFrom(MxResolver names) {
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                MxResolver.Route route = names.host(host);
                if (route instanceof MxResolver.Hosts found) {
                    return found.hosts().get(0).addresses().toArray(InetAddress[]::new);
                }
                throw new UnknownHostException(route instanceof MxResolver.TryLater later ? later.reason() : host);
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
    }

    private record Stored(String id, String mode, List<String> mx, long maxAge, long fetched) {
    }

    private Optional<Policy> cached(String domain) {
        Path file = cache.resolve(domain + ".json");
        if (!domain.matches("[a-z0-9.-]+") || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Stored s = JSON.readValue(file.toFile(), Stored.class);
            return Optional.of(new Policy(s.id(), Mode.valueOf(s.mode()), s.mx(), s.maxAge(), Instant.ofEpochSecond(s.fetched())));
        } catch (IOException | RuntimeException damaged) {
            LOG.warn("event=mta-sts-cache-unreadable domain={} error={}", domain, damaged.getMessage());
            return Optional.empty();
        }
    }

    private void store(String domain, Policy p) throws IOException {
        if (!domain.matches("[a-z0-9.-]+")) {
            return;
        }
        Path next = cache.resolve(domain + ".json.new");
        JSON.writeValue(next.toFile(), new Stored(p.id(), p.mode().name(), p.mx(), p.maxAge(), p.fetched().getEpochSecond()));
        Files.move(next, cache.resolve(domain + ".json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
