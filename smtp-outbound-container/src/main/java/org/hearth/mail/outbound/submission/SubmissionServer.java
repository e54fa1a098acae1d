package org.hearth.mail.outbound.submission;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.core.Username;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.OidcSASLConfiguration;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.NettyServer;
import org.apache.james.protocols.smtp.SMTPConfigurationImpl;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.apache.james.protocols.smtp.core.DataLineMessageHookHandler;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.MailSizeEsmtpExtension;
import org.apache.james.protocols.smtp.core.esmtp.StartTlsCmdHandler;
import org.apache.james.protocols.smtp.hook.AuthHook;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MailHook;
import org.apache.james.protocols.smtp.hook.MessageHook;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.hearth.mail.common.AuthThrottle;
import org.hearth.mail.common.Smtputf8;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Submission (RFC 6409) for the owner's mail clients, on the private overlay only: port 587 with
 * STARTTLS, where AUTH is neither offered nor accepted before TLS (RFC 3207 §4, RFC 4954 §4), and
 * port 465 with TLS from the first byte (RFC 8314). Apache James's SMTP protocol does the SMTP; the
 * hooks here decide: who may log in (the store's accounts, throttled after failures), that nothing
 * is accepted without a login, that a user sends only as one of their own addresses or aliases
 * (550 5.7.1 otherwise), and that 250 comes only once the message is signed and in the queue.
 */
public final class SubmissionServer {

    /** How the connection is protected. */
    public enum Tls { STARTTLS, IMPLICIT }

    /** The store's accounts: a user's login gives the addresses they may send as; empty when refused. */
    public interface Accounts {
        /** {@code client}: the address the login came from, for the store's throttle. */
        Optional<Set<String>> authenticate(String user, String password, String client) throws IOException;
    }

    /** Signs and queues a message; returns its queue id once it is durable. */
    public interface Acceptor {
        String accept(String sender, List<String> recipients, InputStream message) throws IOException;
    }

    private static final ProtocolSession.AttachmentKey<Addresses> ADDRESSES =
            ProtocolSession.AttachmentKey.of("hearth.addresses", Addresses.class);

    /** Who logged in and the addresses that allows (an attachment needs a class of its own). */
    private record Addresses(String user, Set<String> all) {
    }

    private SubmissionServer() {
    }

    public static NettyServer build(Tls tls, String hostname, long maxSize, SSLContext context, Accounts accounts,
                                    Acceptor acceptor, AuthThrottle throttle, MetricFactory metrics) throws Exception {
        SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
        List<ProtocolHandler> handlers = new ArrayList<>(List.of(
                new CommandDispatcher<SMTPSession>(), new EhloCmdHandler(metrics), new HeloCmdHandler(metrics),
                new Smtputf8.MailCmd(metrics), new NoopCmdHandler(), new QuitCmdHandler(metrics),
                new Smtputf8.RcptCmd(metrics), new RsetCmdHandler(), new DataCmdHandler(metrics),
                new AuthCmdHandler(), new MailSizeEsmtpExtension(), new Smtputf8.Extension(), new WelcomeMessageHandler(),
                new DataLineMessageHookHandler(),
                new UnknownCmdHandler(metrics), new CommandHandlerResultLogger(),
                new OwnerLogin(accounts, throttle), new AuthenticatedSenderOnly(), new AuthenticatedOnly(),
                new OwnFromFieldOnly(), new QueueIt(acceptor, hostname)));
        if (tls == Tls.STARTTLS) {
            handlers.add(new StartTlsCmdHandler());
        }
        chain.addAll(handlers);
        chain.wireExtensibleHandlers();
        SMTPConfigurationImpl config = new SMTPConfigurationImpl() {
            @Override
            public long getMaxMessageSize() {
                return maxSize;
            }

            @Override
            public String getHelloName() {
                return hostname;
            }

            @Override
            public String getSoftwareName() {
                return "Hearth";
            }

            @Override
            public boolean isAuthAnnounced(String remoteIP, boolean tlsStarted) {
                return tlsStarted;
            }

            @Override
            public boolean isPlainAuthEnabled() {
                return true;
            }
        };
        return new NettyServer.Factory()
                .protocol(Smtputf8.protocol(chain, config))
                .secure(tls == Tls.STARTTLS ? Encryption.createStartTls(context) : Encryption.createTls(context))
                .build();
    }

    /** Logs in against the store's accounts; failures slow that user and that client down. */
    private static final class OwnerLogin implements AuthHook {
        private final Accounts accounts;
        private final AuthThrottle throttle;

        OwnerLogin(Accounts accounts, AuthThrottle throttle) {
            this.accounts = accounts;
            this.throttle = throttle;
        }

        @Override
        public HookResult doAuth(SMTPSession session, Username username, String password) {
            // AUTH only over TLS (RFC 4954 §4): a password never crosses the overlay in the clear.
            if (!session.isTLSStarted()) {
                return result(HookReturnCode.deny(), "538", "5.7.11 Encryption required: STARTTLS first");
            }
            String user = username.asString().toLowerCase(Locale.ROOT);
            String client = session.getRemoteAddress().getAddress().getHostAddress();
            Optional<java.time.Duration> wait = throttle.refusal(user, client);
            if (wait.isPresent()) {
                return result(HookReturnCode.denySoft(), "454", "4.7.0 Too many failed logins; wait "
                        + Math.max(1, wait.get().toSeconds()) + " s");
            }
            try {
                Optional<Set<String>> addresses = accounts.authenticate(user, password, client);
                if (addresses.isEmpty()) {
                    throttle.failed(user, client);
                    return result(HookReturnCode.deny(), "535", "5.7.8 Authentication credentials invalid");
                }
                throttle.succeeded(user, client);
                session.setAttachment(ADDRESSES, new Addresses(user, Set.copyOf(addresses.get())), ProtocolSession.State.Connection);
                return HookResult.builder().hookReturnCode(HookReturnCode.ok()).build();
            } catch (IOException e) {
                return result(HookReturnCode.denySoft(), "454", "4.7.0 Accounts unavailable, try again later");
            }
        }

        @Override
        public HookResult doSasl(SMTPSession session, OidcSASLConfiguration configuration, String initialResponse) {
            return HookResult.DECLINED;
        }
    }

    /** MAIL FROM only after a login, and only as one of the user's own addresses (RFC 6409 §6.1). */
    private static final class AuthenticatedSenderOnly implements MailHook {
        @Override
        public HookResult doMail(SMTPSession session, MaybeSender sender) {
            Optional<Addresses> own = session.getAttachment(ADDRESSES, ProtocolSession.State.Connection);
            if (own.isEmpty()) {
                return result(HookReturnCode.deny(), "530", "5.7.0 Authentication required");
            }
            String from = sender.asOptional().map(a -> Smtputf8.comparable(a.asString())).orElse("<>");
            if (!own.get().all().contains(from)) {
                return result(HookReturnCode.deny(), "550", "5.7.1 " + from + " is not one of "
                        + own.get().user() + "'s addresses; send as one of them");
            }
            return HookResult.DECLINED;
        }
    }

    /**
     * The From field too names only the user's own addresses: the envelope alone would let a user
     * sign (d= their domain) mail that shows someone else as its author, and mail to the
     * appliance's own users reaches the store with no DMARC check that would catch it.
     */
    private static final class OwnFromFieldOnly implements MessageHook {
        /** The header section is read up to this; a longer one is refused rather than half read. */
        private static final int MAX_HEADER_BYTES = 256 * 1024;

        @Override
        public HookResult onMessage(SMTPSession session, MailEnvelope mail) {
            Addresses own = session.getAttachment(ADDRESSES, ProtocolSession.State.Connection).orElseThrow();
            String from;
            try (InputStream in = mail.getMessageInputStream()) {
                byte[] header = headerSection(in);
                if (header == null) {
                    return result(HookReturnCode.deny(), "552", "5.3.4 The header section is longer than "
                            + MAX_HEADER_BYTES / 1024 + " KiB; it may not be");
                }
                Optional<String> malformed = malformed(header);
                if (malformed.isPresent()) {
                    return result(HookReturnCode.deny(), "550", "5.6.0 " + malformed.get());
                }
                List<String> fields = fromFields(header);
                if (fields.isEmpty()) {
                    return HookResult.DECLINED;
                }
                if (fields.size() > 1) {
                    // RFC 5322 §3.6: one From field; a reader may show either of two.
                    return result(HookReturnCode.deny(), "550", "5.6.0 The message has " + fields.size()
                            + " From fields; it may have one");
                }
                from = fields.get(0);
            } catch (IOException e) {
                return result(HookReturnCode.denySoft(), "451", "4.3.0 Could not read the message; try again");
            }
            List<String> authors;
            try {
                authors = org.apache.james.mime4j.field.address.DefaultAddressParser.DEFAULT.parseAddressList(asciiStandIns(from))
                        .flatten().stream().map(m -> Smtputf8.comparable(fromStandIns(m.getAddress()))).toList();
            } catch (org.apache.james.mime4j.field.address.ParseException | RuntimeException e) {
                return result(HookReturnCode.deny(), "550", "5.6.0 The From field cannot be read as addresses: " + e.getMessage());
            }
            for (String author : authors) {
                if (!own.all().contains(author)) {
                    return result(HookReturnCode.deny(), "550", "5.7.1 From: " + author + " is not one of "
                            + own.user() + "'s addresses; write as one of them");
                }
            }
            return HookResult.DECLINED;
        }

        /**
         * mime4j's strict address parser knows only ASCII; RFC 6532 lets UTF-8 stand wherever atext
         * or qtext may. Each non-ASCII character, and the escape '~' itself, is read as "~HEX~" (atext
         * too) and given back after: the strict parser still judges the field's structure.
         */
        static String asciiStandIns(String field) {
            StringBuilder b = new StringBuilder();
            field.codePoints().forEach(c -> {
                if (c < 0x80 && c != '~') {
                    b.append((char) c);
                } else {
                    b.append('~').append(Integer.toHexString(c)).append('~');
                }
            });
            return b.toString();
        }

        static String fromStandIns(String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("~([0-9a-f]{1,6})~").matcher(text);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(b, java.util.regex.Matcher.quoteReplacement(Character.toString(Integer.parseInt(m.group(1), 16))));
            }
            return m.appendTail(b).toString();
        }

        /**
         * The header section, with lines as the queue will have them (some clients send bare LFs),
         * without the blank line; null when it runs past {@link #MAX_HEADER_BYTES}: a From field
         * after the part read would go unchecked.
         */
        private static byte[] headerSection(InputStream in) throws IOException {
            byte[] raw = in.readNBytes(MAX_HEADER_BYTES);
            boolean more = in.read() >= 0;
            byte[] read = SignAndQueue.crlf(raw);
            int end = new String(read, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");   // one char per byte
            if (end < 0) {
                return more ? null : read;
            }
            return java.util.Arrays.copyOf(read, end + 2);
        }

        /**
         * What makes a header section unfit to sign, as a reply's text: a first line that continues
         * no field (the signer and readers would each attach it differently), or 8-bit bytes that are
         * not UTF-8 (legacy charsets: DKIM's signer hashes header text as UTF-8, so the signature
         * would not verify; RFC 6532 allows UTF-8 there, and RFC 2047 encodes anything else).
         */
        static Optional<String> malformed(byte[] header) {
            if (header.length > 0 && (header[0] == ' ' || header[0] == '\t')) {
                return Optional.of("The header section begins with a continuation line (a space or tab first), which continues no field");
            }
            int line = 1;
            for (int start = 0; start < header.length; line++) {
                int end = start;
                boolean eightBit = false;
                while (end < header.length && header[end] != '\n') {
                    eightBit |= header[end] < 0;
                    end++;
                }
                if (eightBit && !Smtputf8.validUtf8(header, start, end - start)) {
                    return Optional.of("Header line " + line + " has 8-bit bytes that are not UTF-8; send such text as"
                            + " UTF-8 (RFC 6532) or as encoded words (RFC 2047)");
                }
                start = end + 1;
            }
            return Optional.empty();
        }

        /** The (unfolded) From fields of the header section, as a reader finds them ("From :" too). */
        private static List<String> fromFields(byte[] header) {
            // The header section alone decides how it is read: an 8-bit body is no reason to read UTF-8 fields as Latin-1.
            String text = Smtputf8.headerText(header).replaceAll("\r\n[ \t]", " ");
            List<String> fields = new java.util.ArrayList<>();
            for (String line : text.split("\r\n")) {
                java.util.regex.Matcher m = FROM_FIELD.matcher(line);
                if (m.lookingAt()) {
                    fields.add(line.substring(m.end()).strip());
                }
            }
            return fields;
        }

        private static final java.util.regex.Pattern FROM_FIELD =
                java.util.regex.Pattern.compile("From[ \t]*:", java.util.regex.Pattern.CASE_INSENSITIVE);
    }

    /** No recipient without a login: submission is no relay. */
    private static final class AuthenticatedOnly implements RcptHook {
        @Override
        public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
            if (session.getAttachment(ADDRESSES, ProtocolSession.State.Connection).isEmpty()) {
                return result(HookReturnCode.deny(), "530", "5.7.0 Authentication required");
            }
            return HookResult.builder().hookReturnCode(HookReturnCode.ok()).build();
        }
    }

    /** 250 only once the message is signed and durably queued. */
    private static final class QueueIt implements MessageHook {
        private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);
        private final Acceptor acceptor;
        private final String hostname;

        QueueIt(Acceptor acceptor, String hostname) {
            this.acceptor = acceptor;
            this.hostname = hostname;
        }

        @Override
        public HookResult onMessage(SMTPSession session, MailEnvelope mail) {
            List<String> rcpts = mail.getRecipients().stream().map(MailAddress::asString).toList();
            String sender = mail.getMaybeSender().asOptional().map(MailAddress::asString).orElse("");
            try (InputStream in = new SequenceInputStream(new ByteArrayInputStream(received(session)), mail.getMessageInputStream())) {
                String id = acceptor.accept(sender, rcpts, in);
                return result(HookReturnCode.ok(), "250", "2.0.0 Queued as " + id);
            } catch (IOException | RuntimeException e) {
                return result(HookReturnCode.denySoft(), "451", "4.3.0 Not queued (" + e.getMessage() + "); try again");
            }
        }

        /**
         * This server's Received field (RFC 5321 §4.4; ESMTPSA per RFC 3848), above everything the client
         * wrote: the store, seeing it, never takes a client's own Received field for its MX's.
         */
        private byte[] received(SMTPSession session) {
            String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, ProtocolSession.State.Connection)
                    .map(h -> h.replaceAll("[^\\x21-\\x7e]", "?")).orElse("unknown");
            String address = session.getRemoteAddress().getAddress().getHostAddress();
            // RFC 6531 §3.7.3: UTF8SMTPSA names a session that declared SMTPUTF8.
            String protocol = Smtputf8.declared(session) ? "UTF8SMTPSA" : "ESMTPSA";
            return ("Received: from " + helo + " ([" + address + "])\r\n\tby " + hostname + " (Hearth submission) with "
                    + protocol + " id " + session.getSessionID() + ";\r\n\t" + DATE.format(ZonedDateTime.now(ZoneOffset.UTC)) + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }
    }

    private static HookResult result(HookReturnCode code, String smtp, String text) {
        return HookResult.builder().hookReturnCode(code).smtpReturnCode(smtp).smtpDescription(text).build();
    }
}
