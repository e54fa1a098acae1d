package org.hearth.mail.outbound.delivery;

import org.hearth.mail.common.Smtputf8;
import org.hearth.mail.outbound.queue.MailQueue.Outcome;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SNIHostName;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Hands one message to one remote server and says what became of each recipient. It sends the
 * queued bytes exactly (only dot-stuffed), because they carry DKIM signatures; replies are read
 * with bounds, because the server is a stranger.
 *
 * <p>Why not Jakarta Mail's SMTPTransport: it sends a MimeMessage (a parse and a re-serialisation
 * of what was signed), reports per-recipient results through exception chains, and takes its TLS
 * settings per Session rather than per connection, where MTA-STS and DANE decide per destination.
 * The protocol an MTA's client needs is small; this is it.
 */
public final class SmtpClient {

    /** A reply line longer than this, or a reply of more lines, is a broken (or hostile) server. */
    private static final int MAX_LINE = 4096;
    private static final int MAX_LINES = 100;
    /** RFC 5321 §4.5.3.2.6: wait at least 10 minutes for the reply to the final dot; giving up sooner invites a second copy. */
    private static final Duration FINAL_REPLY = Duration.ofMinutes(10);

    /** How STARTTLS is used on this connection. */
    public enum Tls {
        /** Opportunistic (RFC 7435): used when offered, certificate not checked; plaintext when not offered. */
        OPPORTUNISTIC,
        /** Never (a test, or a destination whose TLS is known broken). */
        NONE,
        /** STARTTLS must be offered and the certificate must be valid for the host name, or nothing is sent. */
        REQUIRED,
        /** TLS from the first byte (RFC 8314, port 465), the certificate checked as for REQUIRED. */
        IMPLICIT,
        /** STARTTLS must be offered; the certificate is judged by the host's TLSA records alone (RFC 7672), not by its name. */
        DANE
    }

    /** A login for AUTH (RFC 4954), sent only over TLS whose certificate was checked. */
    public record Login(String username, String password) {
        @Override
        public String toString() {
            return "Login[" + username + "]";
        }
    }

    private final String heloName;
    private final Duration timeout;
    private final SSLContext tls;
    private final IdleSessions idle = new IdleSessions();
    /** LMTP (RFC 2033) to the appliance's own store: LHLO, no STARTTLS, one reply per recipient after the data. */
    private final boolean lmtp;

    /**
     * @param heloName this appliance's host name, as its MX and its reverse DNS name it
     * @param tls      the context for opportunistic STARTTLS (trusting any certificate)
     */
    public SmtpClient(String heloName, Duration timeout, SSLContext tls) {
        this(heloName, timeout, tls, false);
    }

    private SmtpClient(String heloName, Duration timeout, SSLContext tls, boolean lmtp) {
        this.heloName = heloName;
        this.timeout = timeout;
        this.tls = tls;
        this.lmtp = lmtp;
    }

    /**
     * A client for the store's LMTP port, over the internal network to it: mail for the appliance's
     * own domains goes straight in. The store keeps bytes as they are, so 8-bit mail needs no
     * 8BITMIME there.
     */
    public static SmtpClient lmtp(String heloName, Duration timeout) {
        return new SmtpClient(heloName, timeout, null, true);
    }

    /**
     * Delivers to the server at {@code address} (whose DNS name is {@code hostName}, for SNI).
     * Every recipient gets an outcome: delivered, failed (a 5xx) or deferred (a 4xx, or the
     * connection failing before its fate was known — after the final dot that may mean a second copy
     * later, SMTP's own limit, RFC 1047).
     */
    public Attempt deliver(InetSocketAddress address, String hostName, Tls policy, String sender,
                           List<String> recipients, long size, MessageSource message) {
        return deliver(address, hostName, policy, tls, Optional.empty(), sender, recipients, size, message);
    }

    /**
     * Hands the message to a smarthost at {@code address}: TLS always, the certificate checked
     * against the relay's name with {@code verified}, then AUTH with {@code login} if given. A relay
     * that will not do TLS, shows a wrong certificate or refuses the login gets nothing and the
     * mail waits (deferred), for the owner to fix: that is a setting, not the recipient's fault.
     */
    public Attempt deliverToRelay(InetSocketAddress address, String relayName, boolean implicitTls, SSLContext verified,
                                  Optional<Login> login, String sender, List<String> recipients, long size,
                                  MessageSource message) {
        return deliver(address, relayName, implicitTls ? Tls.IMPLICIT : Tls.REQUIRED, verified, login, sender, recipients,
                size, message);
    }

    /**
     * Delivers to an MX host that must be reached over TLS with a certificate valid for its name
     * (a domain's MTA-STS policy in enforce mode): no STARTTLS, or a certificate that does not check
     * out, and nothing is sent; the mail waits.
     */
    public Attempt deliverWithCheckedTls(InetSocketAddress address, String hostName, SSLContext verified, String sender,
                                         List<String> recipients, long size, MessageSource message) {
        return deliver(address, hostName, Tls.REQUIRED, verified, Optional.empty(), sender, recipients, size, message);
    }

    /**
     * Delivers to an MX host whose TLSA records validate (DANE): no STARTTLS, or a certificate they
     * do not match ({@code dane} checks it), and nothing is sent; the mail waits.
     */
    public Attempt deliverWithDane(InetSocketAddress address, String hostName, SSLContext dane, String sender,
                                   List<String> recipients, long size, MessageSource message) {
        return deliver(address, hostName, Tls.DANE, dane, Optional.empty(), sender, recipients, size, message);
    }

    private Attempt deliver(InetSocketAddress address, String hostName, Tls policy, SSLContext context, Optional<Login> login,
                            String sender, List<String> recipients, long size, MessageSource message) {
        boolean verify = policy == Tls.REQUIRED || policy == Tls.IMPLICIT;
        boolean requireTls = verify || policy == Tls.DANE;
        Route route = new Route(address, hostName, policy, context, login);
        Progress p = new Progress();
        Open open = idle.take(route);
        if (open != null) {
            p.connected = true;
            p.stage = "RSET on a kept connection";
            if (!open.stillThere(timeout)) {
                open.close();
                open = null;
                p = new Progress();
            }
        }
        Session s = open == null ? null : open.session;
        Socket plain = null;
        boolean keep = false;
        try {
            if (open == null) {
                p.stage = "connect";
                plain = new Socket();
                plain.connect(address, (int) timeout.toMillis());
                p.connected = true;
                plain.setSoTimeout((int) timeout.toMillis());
                s = new Session(plain);
                if (policy == Tls.IMPLICIT) {
                    p.stage = "TLS";
                    s = s.tls(context, true, hostName, address);
                    p.tlsStarted = true;
                }
                p.stage = "greeting";
                SmtpReply greeting = s.read();
                if (!greeting.positive()) {
                    return new Attempt(all(recipients, greeting, "greeting"), true, false, true);
                }
                p.stage = "EHLO";
                Set<String> extensions = s.ehlo();
                if (!lmtp && !p.tlsStarted && extensions.contains("STARTTLS") && policy != Tls.NONE) {
                    p.stage = "STARTTLS";
                    SmtpReply ready = s.command("STARTTLS");
                    if (ready.code() == 220) {
                        s = s.startTls(context, verify, hostName, address);
                        p.tlsStarted = true;
                        p.stage = "EHLO after STARTTLS";
                        extensions = s.ehlo();
                    }
                }
                if (requireTls && !p.tlsStarted) {
                    s.quit();
                    return notSent(recipients, hostName + " did not start TLS (STARTTLS not offered or refused);"
                            + " nothing is sent to it in plaintext");
                }
                if (login.isPresent()) {
                    p.stage = "AUTH";
                    SmtpReply auth = s.authenticate(login.get(), extensions);
                    if (auth.code() != 235) {
                        s.quit();
                        return notSent(recipients, hostName + " refused the login of " + login.get().username() + ": " + auth);
                    }
                }
                open = new Open(s, extensions);
            }
            Attempt attempt = transaction(open, p, hostName, sender, recipients, size, message);
            // The server answered the final dot: the connection is ready for the next message to it.
            keep = p.finished;
            return attempt;
        } catch (IOException | RuntimeException e) {
            // RuntimeException too: a stranger's answer must never take the delivery pass down.
            String where = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
            String why = "connection to " + hostName + " [" + where + "] failed at "
                    + p.stage + ": " + e.getMessage();
            Set<String> withoutReply = new HashSet<>();
            for (String r : recipients) {
                if (p.outcomes.putIfAbsent(r, Outcome.deferred(why)) == null) {
                    withoutReply.add(r);
                }
            }
            // Before any recipient was answered, the next MX host may do better; after, it might
            // deliver a second copy of what this one took.
            return new Attempt(p.outcomes, !p.anyRecipientAnswered,
                    policy == Tls.OPPORTUNISTIC && p.stage.equals("STARTTLS") && !p.tlsStarted, p.connected, withoutReply);
        } finally {
            if (keep) {
                idle.keep(route, open);
            } else if (s != null) {
                s.close();
            } else if (plain != null) {
                Session.closeQuietly(plain);
            }
        }
    }

    /** Which connections may carry each other's messages: the same server, reached and checked the same way. */
    private record Route(InetSocketAddress address, String hostName, Tls policy, SSLContext context, Optional<Login> login) {
    }

    /** A connection that has greeted, said EHLO and, where asked, started TLS and logged in. */
    private static final class Open {
        final Session session;
        final Set<String> extensions;
        final long openedNanos = System.nanoTime();
        long idleSinceNanos;

        Open(Session session, Set<String> extensions) {
            this.session = session;
            this.extensions = extensions;
        }

        /** RSET answered 250 within {@link IdleSessions#RSET} (Postfix's smtp_rset_timeout): the server is still there, between transactions. */
        boolean stillThere(Duration timeout) {
            try {
                session.socket.setSoTimeout((int) IdleSessions.RSET.toMillis());
                boolean there = session.command("RSET").code() == 250;
                session.socket.setSoTimeout((int) timeout.toMillis());
                return there;
            } catch (IOException | RuntimeException gone) {
                return false;
            }
        }

        /** QUIT, waiting a moment at most for its reply (the connection carries nothing any more), then closed. */
        void close() {
            try {
                session.socket.setSoTimeout((int) IdleSessions.QUIT.toMillis());
            } catch (IOException e) {
                // closed already: nothing to say QUIT on
            }
            session.quit();
            session.close();
        }
    }

    /**
     * Connections kept open after a finished transaction for the next message to the same server,
     * as Postfix's connection cache does: a burst to one destination pays for its TCP connection,
     * greeting, EHLO and TLS handshake once, not once a message. Kept at most {@link #IDLE} unused
     * (Postfix's smtp_connection_cache_time_limit) and {@link #LIFETIME} in all
     * (smtp_connection_reuse_time_limit); every reuse begins with RSET, so one the server dropped
     * is never handed a message.
     */
    private static final class IdleSessions {
        static final Duration IDLE = Duration.ofSeconds(2);
        static final Duration LIFETIME = Duration.ofMinutes(5);
        static final Duration RSET = Duration.ofSeconds(20);
        static final Duration QUIT = Duration.ofSeconds(2);
        /** One daemon thread for every client: it only says QUIT to connections nobody took in time. */
        private static final ScheduledExecutorService REAPER = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "smtp-idle-reaper");
            t.setDaemon(true);
            return t;
        });

        private final Map<Route, Deque<Open>> kept = new HashMap<>();
        private boolean reaping;

        Open take(Route route) {
            List<Open> stale = new ArrayList<>();
            Open found = null;
            synchronized (this) {
                Deque<Open> open = kept.get(route);
                while (open != null && !open.isEmpty() && found == null) {
                    Open o = open.pollLast();
                    if (expired(o, System.nanoTime())) {
                        stale.add(o);
                    } else {
                        found = o;
                    }
                }
                if (open != null && open.isEmpty()) {
                    kept.remove(route);
                }
            }
            stale.forEach(Open::close);
            return found;
        }

        void keep(Route route, Open open) {
            long now = System.nanoTime();
            if (now - open.openedNanos >= LIFETIME.toNanos()) {
                open.close();
                return;
            }
            open.idleSinceNanos = now;
            synchronized (this) {
                kept.computeIfAbsent(route, r -> new ArrayDeque<>()).addLast(open);
                if (!reaping) {
                    reaping = true;
                    REAPER.schedule(this::reap, IDLE.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        }

        private void reap() {
            List<Open> stale = new ArrayList<>();
            synchronized (this) {
                long now = System.nanoTime();
                for (Deque<Open> open : kept.values()) {
                    open.removeIf(o -> expired(o, now) && stale.add(o));
                }
                kept.values().removeIf(Deque::isEmpty);
                reaping = !kept.isEmpty();
                if (reaping) {
                    REAPER.schedule(this::reap, IDLE.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            stale.forEach(Open::close);
        }

        private static boolean expired(Open o, long now) {
            return now - o.idleSinceNanos >= IDLE.toNanos() || now - o.openedNanos >= LIFETIME.toNanos();
        }
    }

    /** How far one attempt got, for what its failure says. */
    private static final class Progress {
        String stage = "connect";
        boolean connected;
        boolean tlsStarted;
        boolean anyRecipientAnswered;
        /** The server answered the final dot (every reply, for LMTP): the session is between transactions. */
        boolean finished;
        final Map<String, Outcome> outcomes = new LinkedHashMap<>();
    }

    /** One transaction, MAIL FROM to the reply to the final dot, on a connection that has said EHLO (and STARTTLS, AUTH). */
    private Attempt transaction(Open open, Progress p, String hostName, String sender, List<String> recipients, long size,
                                MessageSource message) throws IOException {
        Session s = open.session;
        Set<String> extensions = open.extensions;
        Map<String, Outcome> outcomes = p.outcomes;
        List<String> accepted = new ArrayList<>();
        p.stage = "MAIL FROM";
        boolean eightBit = message.eightBit();
        // RFC 6152: 8-bit content only to a server that says it takes it; converting it would break
        // the DKIM signatures, so such a server cannot have this message (RFC 3463 5.6.3).
        if (eightBit && !extensions.contains("8BITMIME") && !lmtp) {
            s.quit();
            return new Attempt(all(recipients, new SmtpReply(554, List.of("5.6.3 " + hostName
                    + " does not accept 8-bit mail (no 8BITMIME) and the signed message cannot be converted")), "EHLO"), false, false, true);
        }
        // RFC 6531 has no downgrade: non-ASCII addresses or UTF-8 header fields go only to a
        // server that offers SMTPUTF8; to any other they fail now rather than arrive mangled.
        boolean utf8Addresses = !Smtputf8.isAscii(sender) || recipients.stream().anyMatch(r -> !Smtputf8.isAscii(r));
        // UTF-8 header fields are 8-bit: a 7-bit message's header section need not be read again.
        boolean utf8 = utf8Addresses || eightBit && message.utf8Headers();
        if (utf8 && !extensions.contains("SMTPUTF8")) {
            s.quit();
            // RFC 6531 §3.6 / RFC 5248: 5.6.7 for the addresses, 5.6.9 for header fields alone.
            SmtpReply refusal = utf8Addresses
                    ? new SmtpReply(553, List.of("5.6.7 " + hostName + " does not offer SMTPUTF8, which this message's"
                            + " non-ASCII addresses need"))
                    : new SmtpReply(554, List.of("5.6.9 " + hostName + " does not offer SMTPUTF8, which this message's"
                            + " UTF-8 header fields need"));
            return new Attempt(all(recipients, refusal, "EHLO"), false, false, true);
        }
        long limit = s.sizeLimit();
        if (limit > 0 && size > limit) {
            s.quit();
            return new Attempt(all(recipients, new SmtpReply(552, List.of("5.3.4 the message (" + size + " bytes) is larger than "
                    + hostName + " accepts (" + limit + ")")), "EHLO"), false, false, true);
        }
        String mail = "MAIL FROM:<" + sender + ">" + (extensions.contains("SIZE") ? " SIZE=" + size : "")
                + (eightBit && extensions.contains("8BITMIME") ? " BODY=8BITMIME" : "") + (utf8 ? " SMTPUTF8" : "");
        SmtpReply from = s.command(mail);
        if (!from.positive()) {
            return new Attempt(all(recipients, from, "MAIL FROM"), !from.permanent(), false, true);
        }
        for (String rcpt : recipients) {
            p.stage = "RCPT TO:<" + rcpt + ">";
            SmtpReply r = s.command("RCPT TO:<" + rcpt + ">");
            p.anyRecipientAnswered = true;
            if (r.positive()) {
                accepted.add(rcpt);
            } else {
                outcomes.put(rcpt, outcome(r, "RCPT TO"));
            }
        }
        if (accepted.isEmpty()) {
            s.quit();
            return new Attempt(outcomes, false, false, true);
        }
        p.stage = "DATA";
        SmtpReply data = s.command("DATA");
        if (data.code() != 354) {
            accepted.forEach(r -> outcomes.put(r, outcome(data, "DATA")));
            return new Attempt(outcomes, false, false, true);
        }
        p.stage = "the message";
        try (InputStream in = message.open()) {
            s.sendDotStuffed(in);
        }
        p.stage = "end of data";
        s.socket.setSoTimeout((int) Math.max(timeout.toMillis(), FINAL_REPLY.toMillis()));
        if (lmtp) {
            // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
            for (String r : accepted) {
                p.stage = "end of data for " + r;
                SmtpReply done = s.read();
                outcomes.put(r, done.positive() ? Outcome.delivered(done.toString()) : outcome(done, "end of data"));
            }
        } else {
            SmtpReply done = s.read();
            accepted.forEach(r -> outcomes.put(r, done.positive() ? Outcome.delivered(done.toString()) : outcome(done, "end of data")));
        }
        s.socket.setSoTimeout((int) timeout.toMillis());
        p.finished = true;
        return new Attempt(outcomes, false, false, true);
    }

    /**
     * What one connection achieved.
     *
     * @param sessionFailed nothing was decided for any recipient (no connection, a refusing greeting,
     *                      a temporary MAIL FROM failure): the next address or MX host should be tried
     * @param tlsFailed     the TLS handshake after STARTTLS failed: opportunistic TLS may retry in plaintext
     * @param connected     the TCP connection was made (whatever followed): the way out to that port is open
     * @param withoutReply  recipients whose deferral no server's reply to their transaction decided (no TLS
     *                      to be had, a refused login, a broken connection): a caller may add why it insisted
     */
    public record Attempt(Map<String, Outcome> outcomes, boolean sessionFailed, boolean tlsFailed, boolean connected,
                          Set<String> withoutReply) {

        public Attempt {
            withoutReply = Set.copyOf(withoutReply);
        }

        /** An attempt whose every outcome is a server's reply. */
        Attempt(Map<String, Outcome> outcomes, boolean sessionFailed, boolean tlsFailed, boolean connected) {
            this(outcomes, sessionFailed, tlsFailed, connected, Set.of());
        }
    }

    /** The message's bytes, opened once per attempt, and whether any byte is 8-bit. */
    public interface MessageSource {
        InputStream open() throws IOException;

        boolean eightBit() throws IOException;

        /** Whether the header section holds UTF-8 text (RFC 6532), which only an SMTPUTF8 server may get. */
        default boolean utf8Headers() throws IOException {
            try (InputStream in = open()) {
                return Smtputf8.utf8Headers(headerSection(new BufferedInputStream(in)));
            }
        }
    }

    /** The bytes up to the blank line that ends the header section (at most 256 KiB of them). */
    static byte[] headerSection(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        int previous = -1;
        for (int b, n = 0; n < 256 * 1024 && (b = in.read()) >= 0; n++) {
            if (b == '\n' && previous == '\n') {
                break;
            }
            head.write(b);
            if (b != '\r') {
                previous = b;
            }
        }
        return head.toByteArray();
    }

    private static Map<String, Outcome> all(List<String> recipients, SmtpReply reply, String stage) {
        Map<String, Outcome> out = new LinkedHashMap<>();
        recipients.forEach(r -> out.put(r, outcome(reply, stage)));
        return out;
    }

    /** Connected, but the message not offered: every recipient waits, for this client's own reason. */
    private static Attempt notSent(List<String> recipients, String why) {
        Map<String, Outcome> out = new LinkedHashMap<>();
        recipients.forEach(r -> out.put(r, Outcome.deferred(why)));
        return new Attempt(out, true, false, true, Set.copyOf(recipients));
    }

    private static Outcome outcome(SmtpReply reply, String stage) {
        String text = reply + " (at " + stage + ")";
        return reply.permanent() ? Outcome.failed(text) : Outcome.deferred(text);
    }

    /** One connection's reader and writer; replaced by a new one over TLS after STARTTLS. */
    private final class Session {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        /** SIZE's argument in the last EHLO reply (RFC 1870); 0 when none was given. */
        private long sizeLimit;
        /** AUTH's mechanisms in the last EHLO reply (RFC 4954). */
        private final Set<String> authMechanisms = new TreeSet<>();

        Session(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = new BufferedOutputStream(socket.getOutputStream());
        }

        Set<String> ehlo() throws IOException {
            SmtpReply r = command((lmtp ? "LHLO " : "EHLO ") + heloName);
            Set<String> extensions = new TreeSet<>();
            if (r.code() == 250) {
                for (String line : r.lines().subList(1, r.lines().size())) {
                    String[] words = line.split(" ");
                    extensions.add(words[0].toUpperCase(Locale.ROOT));
                    if (words[0].equalsIgnoreCase("SIZE") && words.length > 1 && words[1].matches("\\d{1,18}")) {
                        sizeLimit = Long.parseLong(words[1]);
                    }
                    if (words[0].equalsIgnoreCase("AUTH")) {
                        for (int i = 1; i < words.length; i++) {
                            authMechanisms.add(words[i].toUpperCase(Locale.ROOT));
                        }
                    }
                }
                return extensions;
            }
            if (lmtp) {
                throw new IOException("LHLO refused: " + r);
            }
            SmtpReply helo = command("HELO " + heloName);
            if (!helo.positive()) {
                throw new IOException("HELO refused: " + helo);
            }
            return extensions;
        }

        long sizeLimit() {
            return sizeLimit;
        }

        Session startTls(SSLContext context, boolean verify, String hostName, InetSocketAddress address) throws IOException {
            // Anything after the 220 came in plaintext before TLS and would be read as if protected
            // (the STARTTLS injection of CVE-2011-0411): refuse the connection instead.
            if (in.available() > 0) {
                throw new IOException("the server sent more after its STARTTLS reply; not trusting it");
            }
            return tls(context, verify, hostName, address);
        }

        /**
         * This connection under TLS. With {@code verify}, the certificate must chain to the
         * context's trust and name {@code hostName} (the HTTPS rules of RFC 2818, as RFC 6125 asks).
         */
        Session tls(SSLContext context, boolean verify, String hostName, InetSocketAddress address) throws IOException {
            String name = hostName.endsWith(".") ? hostName.substring(0, hostName.length() - 1) : hostName;
            SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(socket, verify ? name : address.getHostString(),
                    address.getPort(), true);
            SSLParameters params = ssl.getSSLParameters();
            if (verify) {
                params.setEndpointIdentificationAlgorithm("HTTPS");
            }
            // SNI where the name is a valid host name (not every published MX name is).
            try {
                params.setServerNames(List.of(new SNIHostName(name)));
            } catch (IllegalArgumentException notAHostName) {
                // no SNI then; the handshake goes on without it
            }
            ssl.setSSLParameters(params);
            ssl.setUseClientMode(true);
            ssl.startHandshake();
            return new Session(ssl);
        }

        /** AUTH PLAIN where offered, else LOGIN; the reply that ended it (235 on success). */
        SmtpReply authenticate(Login login, Set<String> extensions) throws IOException {
            Base64.Encoder b64 = Base64.getEncoder();
            if (authMechanisms.contains("PLAIN")) {
                String response = b64.encodeToString(("\0" + login.username() + "\0" + login.password()).getBytes(StandardCharsets.UTF_8));
                return command("AUTH PLAIN " + response);
            }
            if (authMechanisms.contains("LOGIN")) {
                SmtpReply r = command("AUTH LOGIN");
                if (r.code() == 334) {
                    r = command(b64.encodeToString(login.username().getBytes(StandardCharsets.UTF_8)));
                }
                if (r.code() == 334) {
                    r = command(b64.encodeToString(login.password().getBytes(StandardCharsets.UTF_8)));
                }
                return r;
            }
            return new SmtpReply(530, List.of("5.7.0 no AUTH PLAIN or LOGIN offered"
                    + (extensions.contains("AUTH") ? " (it offers " + String.join(" ", authMechanisms) + ")" : "")));
        }

        SmtpReply command(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read();
        }

        SmtpReply read() throws IOException {
            List<String> lines = new ArrayList<>();
            int code = -1;
            while (true) {
                String line = readLine();
                if (line.length() < 3 || !line.substring(0, 3).chars().allMatch(Character::isDigit)
                        || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
                    throw new IOException("not an SMTP reply: " + printable(line));
                }
                int c = Integer.parseInt(line.substring(0, 3));
                if (code != -1 && c != code) {
                    throw new IOException("reply lines with different codes: " + code + " then " + c);
                }
                code = c;
                lines.add(line.length() > 4 ? line.substring(4) : "");
                if (line.length() == 3 || line.charAt(3) == ' ') {
                    return new SmtpReply(code, List.copyOf(lines));
                }
                if (lines.size() >= MAX_LINES) {
                    throw new IOException("a reply of more than " + MAX_LINES + " lines");
                }
            }
        }

        private String readLine() throws IOException {
            StringBuilder b = new StringBuilder();
            while (true) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("connection closed by the server");
                }
                if (c == '\n') {
                    int end = b.length() > 0 && b.charAt(b.length() - 1) == '\r' ? b.length() - 1 : b.length();
                    return b.substring(0, end);
                }
                if (b.length() >= MAX_LINE) {
                    throw new IOException("a reply line longer than " + MAX_LINE + " bytes");
                }
                b.append((char) c);
            }
        }

        /** The message with every line starting with "." doubled (RFC 5321 §4.5.2), then CRLF.CRLF. */
        void sendDotStuffed(InputStream message) throws IOException {
            boolean lineStart = true;
            int previous = -1;
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = message.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (lineStart && b == '.') {
                        out.write('.');
                    }
                    out.write(b);
                    lineStart = b == '\n';
                    previous = b;
                }
            }
            out.write(previous == '\n' ? ".\r\n".getBytes(StandardCharsets.US_ASCII) : "\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        void quit() {
            try {
                command("QUIT");
            } catch (IOException e) {
                // the message's fate is already known; a server that hangs up first changes nothing
            }
        }

        void close() {
            closeQuietly(socket);
        }

        static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing is all that is left to do with it
            }
        }
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
