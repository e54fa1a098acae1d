package org.hearth.mail.outbound;

import org.apache.james.metrics.logger.DefaultMetricFactory;
import org.apache.james.protocols.netty.NettyServer;
import org.hearth.mail.common.AuthThrottle;
import org.hearth.mail.outbound.admin.AdminSocket;
import org.hearth.mail.outbound.admin.OutboundAdmin;
import org.hearth.mail.outbound.dns.MailDnsRecords;
import org.hearth.mail.outbound.admin.QueueStatus;
import org.hearth.tls.ServerKeys;
import org.hearth.tls.TlsIdentity;
import org.hearth.mail.common.StoreLogin;
import org.hearth.mail.outbound.delivery.CheckedTls;
import org.hearth.mail.outbound.delivery.CachingResolver;
import org.hearth.mail.outbound.delivery.Dane;
import org.hearth.mail.outbound.delivery.Deliverer;
import org.hearth.mail.outbound.delivery.LocalStore;
import org.hearth.mail.outbound.delivery.MtaSts;
import org.hearth.mail.outbound.delivery.MxResolver;
import org.hearth.mail.outbound.delivery.OpportunisticTls;
import org.hearth.mail.outbound.delivery.Relay;
import org.hearth.mail.outbound.delivery.Router;
import org.hearth.mail.outbound.delivery.SmtpClient;
import org.hearth.mail.outbound.dkim.DkimKeys;
import org.hearth.mail.outbound.queue.MailQueue;
import org.hearth.mail.outbound.queue.RetrySchedule;
import org.hearth.mail.outbound.submission.SignAndQueue;
import org.hearth.mail.outbound.submission.StoreAccounts;
import org.hearth.mail.outbound.submission.SubmissionServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The outbound container's process: submission on two ports, the queue and DKIM keys on its
 * encrypted volume, and delivery passes. Settings from the manifest's environment (defaults in
 * brackets): MAIL_HOSTNAME (the MX name: HELO, notices), OWNER_HOSTNAME (the private name
 * submission's certificate carries), MAIL_DATA [/data], SUBMISSION_PORT [587], SUBMISSIONS_PORT
 * [465], CLIENT_IMAPS_PORT [993], CLIENT_SUBMISSION_PORT [587] and CLIENT_SUBMISSIONS_PORT [465] (where the
 * owner's clients reach them on the box, for the SRV records), STORE_LOGIN [imap:2465], STORE_LMTP
 * [imap:2425] (mail for the store's own domains goes
 * there), HEARTH_RESOLVER (set by the supervisor from appliance.yaml's egress.resolver; without it
 * mail for other domains waits in the queue, saying why), DELIVERY_PORT [25], MAX_MESSAGE_BYTES
 * [26214400], DELIVERY_PASS_SECONDS [10], STATUS_PORT [2589] (the queue's facts for hearth status),
 * DELIVERY_WORKERS [6] (messages tried at once), DESTINATION_CONCURRENCY [3] (sessions to one
 * destination at once: a slow one holds at most half the workers), HEARTH_RELAY and HEARTH_RELAY_USER (set
 * by the supervisor from appliance.yaml's egress.relay: every other domain's mail goes to that
 * smarthost, its password and extra CA certificates in HEARTH_SECRETS [/run/secrets], where submission's
 * certificate for OWNER_HOSTNAME is too once the box has one), and the retry
 * schedule QUEUE_MINIMAL_BACKOFF [300s], QUEUE_MAXIMAL_BACKOFF [4000s], QUEUE_DELAY_WARNING [4h],
 * QUEUE_LIFETIME [5d] (Postfix's defaults), and DNSSEC_TRUST_ANCHORS (DS or DNSKEY records, one per line,
 * DANE validates from instead of the root's: a test world with its own signed zones).
 */
public final class OutboundService {

    private static final Logger LOG = LoggerFactory.getLogger(OutboundService.class);

    private OutboundService() {
    }

    public static void main(String[] args) throws Exception {
        NativeCrypto.install();
        String mxHost = required("MAIL_HOSTNAME");
        String ownerHost = required("OWNER_HOSTNAME");
        Path data = Path.of(env("MAIL_DATA", "/data"));
        long maxSize = Long.parseLong(env("MAX_MESSAGE_BYTES", "26214400"));
        RetrySchedule schedule = RetrySchedule.fromEnvironment(System.getenv());
        MailQueue queue = MailQueue.open(data.resolve("queue"), schedule);
        DkimKeys keys = new DkimKeys(data.resolve("dkim"));
        SSLContext tls = ServerKeys.context(Path.of(env("HEARTH_SECRETS", "/run/secrets")),
                TlsIdentity.stored(data.resolve("tls/submission.p12"), ownerHost));
        InetSocketAddress storeLogin = hostPort(env("STORE_LOGIN", "imap:2465"));
        InetSocketAddress storeLmtp = hostPort(env("STORE_LMTP", "imap:2425"));

        Router router = Router.withoutResolver();
        Optional<Resolver> dns = Optional.empty();
        Deliverer.DestinationTls destinationTls = Deliverer.DestinationTls.OPPORTUNISTIC;
        String resolverAddress = env("HEARTH_RESOLVER", "");
        if (resolverAddress.isEmpty()) {
            LOG.warn("event=no-resolver detail=\"no egress.resolver in appliance.yaml: mail to other domains stays queued\"");
        } else {
            SimpleResolver wire = new SimpleResolver(new InetSocketAddress(resolverAddress, 53));
            wire.setTimeout(Duration.ofSeconds(10));
            // Every message to a domain asks the same questions: their answers are kept for their TTLs.
            Resolver resolver = new CachingResolver(wire, InstantSource.system());
            router = new MxResolver(resolver);
            dns = Optional.of(wire);  // the admin checks what is published now, not what was kept
            // DANE validates from the root's anchors, or from DNSSEC_TRUST_ANCHORS (DS or DNSKEY records, one
            // per line: a test world's own signed zones).
            String anchors = env("DNSSEC_TRUST_ANCHORS", "");
            Resolver daneHead = new CachingResolver(new SimpleResolver(new InetSocketAddress(resolverAddress, 53)),
                    InstantSource.system());
            try (InputStream in = anchors.isEmpty() ? Dane.rootAnchors()
                    : new ByteArrayInputStream((anchors + "\n").getBytes(StandardCharsets.US_ASCII))) {
                // Once DNSSEC has validated through this resolver, a failure makes mail wait (Dane.mx).
                Path dnssecSeen = data.resolve("dane/dnssec-seen-" + resolverAddress.replace(':', '_'));
                destinationTls = new Deliverer.DestinationTls(Optional.of(new Dane(daneHead, in, Optional.of(dnssecSeen))),
                        Optional.of(new MtaSts(resolver, CheckedTls.publicCas(), 443, data.resolve("mta-sts"), InstantSource.system())));
            }
        }
        LocalStore store = LocalStore.remembering(new LocalStore() {
            @Override
            public Set<String> domains() throws IOException {
                return StoreLogin.domains(storeLogin, Duration.ofSeconds(30));
            }

            @Override
            public InetSocketAddress lmtp() {
                return new InetSocketAddress(storeLmtp.getHostString(), storeLmtp.getPort());
            }
        }, Duration.ofSeconds(5), InstantSource.system());
        Optional<Relay> relay = Relay.fromEnvironment(System.getenv(), Path.of(env("HEARTH_SECRETS", "/run/secrets")));
        relay.ifPresent(r -> LOG.info("event=relay relay={} login={}", r.name(), r.username().orElse("none")));
        Deliverer deliverer = new Deliverer(queue, router, new SmtpClient(mxHost, Duration.ofMinutes(5), OpportunisticTls.context()),
                Optional.of(store), relay, destinationTls, Integer.parseInt(env("DELIVERY_PORT", "25")), mxHost, schedule, InstantSource.system(),
                new Deliverer.Concurrency(Integer.parseInt(env("DELIVERY_WORKERS", "6")),
                        Integer.parseInt(env("DESTINATION_CONCURRENCY", "3"))));
        Runnable pass = () -> {
            try {
                int started = deliverer.startPass().size();
                if (started > 0) {
                    LOG.info("event=delivery-pass started={}", started);
                }
            } catch (Exception e) {
                LOG.warn("event=delivery-pass-failed error={}", e.getMessage());
            }
        };
        ScheduledExecutorService passes = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "delivery"));
        AtomicBoolean passWaiting = new AtomicBoolean();
        // A message due at once (submitted, a bounce or delay notice, the owner's retry) starts a pass
        // then (at most one waiting): mail leaves in moments, not at the next tick.
        queue.whenDueNow(() -> {
            if (passWaiting.compareAndSet(false, true)) {
                passes.execute(() -> {
                    passWaiting.set(false);
                    pass.run();
                });
            }
        });
        SubmissionServer.Acceptor acceptor = new SignAndQueue(keys, queue, InstantSource.system());
        AuthThrottle throttle = AuthThrottle.standard();
        SubmissionServer.Accounts accounts = new StoreAccounts(storeLogin, Duration.ofSeconds(30));
        for (var port : new Object[][]{{SubmissionServer.Tls.STARTTLS, env("SUBMISSION_PORT", "587")},
                {SubmissionServer.Tls.IMPLICIT, env("SUBMISSIONS_PORT", "465")}}) {
            NettyServer server = SubmissionServer.build((SubmissionServer.Tls) port[0], ownerHost, maxSize, tls, accounts,
                    acceptor, throttle, new DefaultMetricFactory());
            server.setListenAddresses(new InetSocketAddress(Integer.parseInt((String) port[1])));
            server.bind();
        }
        // Where the owner's clients reach IMAPS and submission: the listeners' ports on the box's side.
        MailDnsRecords.Ports clientPorts = new MailDnsRecords.Ports(Integer.parseInt(env("CLIENT_IMAPS_PORT", "993")),
                Integer.parseInt(env("CLIENT_SUBMISSION_PORT", "587")), Integer.parseInt(env("CLIENT_SUBMISSIONS_PORT", "465")));
        AdminSocket.serve(new OutboundAdmin(queue, keys, mxHost, ownerHost, clientPorts, dns, InstantSource.system()),
                AdminSocket.PORT);
        QueueStatus.serve(queue, deliverer.wayOut(), InstantSource.system(), Integer.parseInt(env("STATUS_PORT", "2589")));
        passes.scheduleWithFixedDelay(pass, 0, Long.parseLong(env("DELIVERY_PASS_SECONDS", "10")), TimeUnit.SECONDS);
        LOG.info("event=ready service=outbound queued={}", queue.list().size());
    }

    private static InetSocketAddress hostPort(String value) {
        int colon = value.lastIndexOf(':');
        return InetSocketAddress.createUnresolved(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
    }

    private static String required(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the outbound container needs " + name + " in its environment");
        }
        return value;
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
