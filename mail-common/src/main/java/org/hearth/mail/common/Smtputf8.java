package org.hearth.mail.common;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPConfiguration;
import org.apache.james.protocols.smtp.SMTPProtocol;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.SMTPSessionImpl;
import org.apache.james.protocols.smtp.core.MailCmdHandler;
import org.apache.james.protocols.smtp.core.RcptCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.MailParametersHook;

import java.net.IDN;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

import javax.mail.internet.InternetAddress;


/**
 * SMTPUTF8 (RFC 6531) for the James SMTP and LMTP servers Hearth runs (submission, the store's
 * LMTP). James 3.8.1 — and 3.9.0, the newest release — parses every envelope address with
 * {@link MailAddress}, which refuses any non-ASCII character in a local part, and decodes command
 * lines as US-ASCII. These pieces replace only what stands in the way: lines are read as UTF-8,
 * the extension is advertised and its MAIL parameter recorded, and a MAIL or RCPT whose address is
 * not ASCII is parsed here. James's own handlers still make every other check (command order,
 * parameters, size) on a stand-in address; the hooks and the envelope then hold the real one,
 * exactly as the client wrote it. ASCII addresses take James's path unchanged.
 */
public final class Smtputf8 {

    /** The transaction declared SMTPUTF8 in its MAIL command. */
    public static final ProtocolSession.AttachmentKey<Boolean> DECLARED =
            ProtocolSession.AttachmentKey.of("hearth.smtputf8", Boolean.class);
    /** What James's handlers parse in place of a non-ASCII address; never leaves the handler. */
    private static final String STAND_IN = "smtputf8.stand-in@invalid";
    private static final int MAX_LOCAL_PART_OCTETS = 64;
    private static final String ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";
    /**
     * Letters and marks that show as nothing (Hangul fillers, the combining grapheme joiner, the
     * braille blank, Mongolian and Khmer invisibles); variation selectors are refused by range.
     */
    private static final String INVISIBLE = "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0";
    /** UTS #46's deviation characters: ß, ς, ZWNJ, ZWJ. */
    private static final String IDNA_DEVIATIONS = "\u00df\u03c2\u200c\u200d";

    private Smtputf8() {
    }

    /** James's SMTP protocol with command lines read as UTF-8 (ASCII lines read the same). */
    public static SMTPProtocol protocol(ProtocolHandlerChain chain, SMTPConfiguration config) {
        return new SMTPProtocol(chain, config) {
            @Override
            public ProtocolSession newSession(ProtocolTransport transport) {
                return new SMTPSessionImpl(transport, config) {
                    @Override
                    public Charset getCharset() {
                        return StandardCharsets.UTF_8;
                    }
                };
            }
        };
    }

    public static boolean declared(SMTPSession session) {
        return session.getAttachment(DECLARED, ProtocolSession.State.Transaction).orElse(false);
    }

    public static boolean isAscii(CharSequence text) {
        return text.chars().allMatch(c -> c < 0x80);
    }

    /**
     * An envelope address (RFC 5321 Mailbox, extended by RFC 6531 §3.3): James's own for ASCII,
     * else a UTF-8 dot-string local part and a domain of LDH labels or U-labels.
     *
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static MailAddress address(String text) {
        if (isAscii(text)) {
            try {
                return new MailAddress(text);
            } catch (javax.mail.internet.AddressException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        if (text.indexOf('\uFFFD') >= 0) {
            throw new IllegalArgumentException("the address is not valid UTF-8");
        }
        int at = text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("\"" + text + "\" is not local-part@domain");
        }
        String local = text.substring(0, at);
        String domain = text.substring(at + 1);
        if (local.startsWith("\"")) {
            throw new IllegalArgumentException("a quoted local part may not hold non-ASCII characters here");
        }
        if (local.getBytes(StandardCharsets.UTF_8).length > MAX_LOCAL_PART_OCTETS) {
            throw new IllegalArgumentException("the local part is longer than " + MAX_LOCAL_PART_OCTETS + " octets");
        }
        for (String atom : local.split("\\.", -1)) {
            if (atom.isEmpty()) {
                throw new IllegalArgumentException("the local part \"" + local + "\" has an empty dot-separated part");
            }
            int bad = atom.codePoints().filter(c -> !uchar(c)).findFirst().orElse(-1);
            if (bad >= 0) {
                throw new IllegalArgumentException(String.format("the local part \"%s\" holds U+%04X, which an address may not",
                        local, bad));
            }
        }
        int deviation = domain.codePoints().filter(c -> IDNA_DEVIATIONS.indexOf(c) >= 0).findFirst().orElse(-1);
        if (deviation >= 0) {
            // java.net.IDN is IDNA2003, which maps "faß" to "fass": another name, perhaps another owner's.
            throw new IllegalArgumentException(String.format("the domain \"%s\" holds U+%04X, which IDNA2003 and"
                    + " IDNA2008 read differently", domain, deviation));
        }
        try {
            IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES);
            return Utf8Address.of(local, Domain.of(domain));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + domain + "\" is not a domain name: " + e.getMessage(), e);
        }
    }

    /** RFC 6531's ucharacter: atext, or any non-ASCII character that is not a control or a space. */
    private static boolean uchar(int c) {
        if (c < 0x80) {
            return Character.isLetterOrDigit(c) || ATEXT_SPECIALS.indexOf(c) >= 0;
        }
        return !Character.isISOControl(c) && !Character.isSpaceChar(c) && !Character.isWhitespace(c)
                && Character.getType(c) != Character.FORMAT && Character.isDefined(c) && INVISIBLE.indexOf(c) < 0
                && !(c >= 0xFE00 && c <= 0xFE0F) && !(c >= 0xE0100 && c <= 0xE01EF);
    }

    /** The address between the angle brackets of {@code FROM:<...> params}, or null when there are none. */
    private static String bracketed(String argument) {
        int open = argument.indexOf('<');
        int close = open < 0 ? -1 : argument.indexOf('>', open);
        return close < 0 ? null : argument.substring(open + 1, close);
    }

    private static SMTPResponse notDeclared(String which) {
        return new SMTPResponse("553", "5.6.7 A non-ASCII " + which + " address needs SMTPUTF8 declared in MAIL (RFC 6531)");
    }

    /** Advertises SMTPUTF8 in EHLO and LHLO, and records the MAIL parameter that declares it. */
    public static final class Extension implements EhloExtension, MailParametersHook {
        @Override
        public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
            return List.of("SMTPUTF8");
        }

        @Override
        public HookResult doMailParameter(SMTPSession session, String name, String value) {
            if (!value.isEmpty()) {
                return HookResult.builder().hookReturnCode(org.apache.james.protocols.smtp.hook.HookReturnCode.deny())
                        .smtpReturnCode("501").smtpDescription("5.5.4 SMTPUTF8 takes no value").build();
            }
            session.setAttachment(DECLARED, true, ProtocolSession.State.Transaction);
            return HookResult.DECLINED;
        }

        @Override
        public String[] getMailParamNames() {
            return new String[] {"SMTPUTF8"};
        }
    }

    /** MAIL FROM with a non-ASCII address: SMTPUTF8 must be declared on the same line. */
    public static final class MailCmd extends MailCmdHandler {
        public MailCmd(MetricFactory metrics) {
            super(metrics);
        }

        @Override
        protected Response doFilterChecks(SMTPSession session, String command, String argument) {
            // Only this MAIL's own parameter counts: one a refused MAIL declared must not carry over.
            session.removeAttachment(DECLARED, ProtocolSession.State.Transaction);
            String address = argument == null ? null : bracketed(argument);
            if (address == null || isAscii(address)) {
                return super.doFilterChecks(session, command, argument);
            }
            String parameters = argument.substring(argument.indexOf('>') + 1);
            if (List.of(parameters.trim().split("\\s+")).stream().noneMatch(p -> p.equalsIgnoreCase("SMTPUTF8"))) {
                return notDeclared("sender");
            }
            return parsedThenChecked(address, "5.1.7 Bad sender address: ",
                    () -> super.doFilterChecks(session, command, standIn(argument, address)),
                    sender -> session.setAttachment(SMTPSession.SENDER, MaybeSender.of(sender), ProtocolSession.State.Transaction));
        }
    }

    /** RCPT TO with a non-ASCII address, in a transaction that declared SMTPUTF8. */
    public static final class RcptCmd extends RcptCmdHandler {
        public RcptCmd(MetricFactory metrics) {
            super(metrics);
        }

        @Override
        protected Response doFilterChecks(SMTPSession session, String command, String argument) {
            String address = argument == null ? null : bracketed(argument);
            if (address == null || isAscii(address)) {
                return super.doFilterChecks(session, command, argument);
            }
            if (session.getAttachment(SMTPSession.SENDER, ProtocolSession.State.Transaction).isPresent() && !declared(session)) {
                return notDeclared("recipient");
            }
            return parsedThenChecked(address, "5.1.3 Bad recipient address: ",
                    () -> super.doFilterChecks(session, command, standIn(argument, address)),
                    recipient -> session.setAttachment(CURRENT_RECIPIENT, recipient, ProtocolSession.State.Transaction));
        }
    }

    /**
     * Parses a non-ASCII address ({@code 553} and why, if it is none), then lets James check the
     * command on the stand-in; if James finds nothing wrong, the real address is kept.
     */
    private static Response parsedThenChecked(String address, String refusal, Supplier<Response> jamesChecks,
                                              Consumer<MailAddress> keep) {
        MailAddress parsed;
        try {
            parsed = address(address);
        } catch (IllegalArgumentException e) {
            return new SMTPResponse("553", refusal + e.getMessage());
        }
        Response checked = jamesChecks.get();
        if (checked == null) {
            keep.accept(parsed);
        }
        return checked;
    }

    private static String standIn(String argument, String address) {
        return argument.replace("<" + address + ">", "<" + STAND_IN + ">");
    }

    /**
     * A MailAddress with a non-ASCII local part, which MailAddress's parser would refuse. The
     * superclass holds only the stand-in; every accessor that reads its fields answers from here
     * (equality and hashing go through these accessors).
     */
    static final class Utf8Address extends MailAddress {
        private final String localPart;
        private final Domain domain;

        private Utf8Address(String localPart, Domain domain) throws javax.mail.internet.AddressException {
            super(STAND_IN);
            this.localPart = localPart;
            this.domain = domain;
        }

        static Utf8Address of(String localPart, Domain domain) {
            try {
                return new Utf8Address(localPart, domain);
            } catch (javax.mail.internet.AddressException e) {
                throw new IllegalStateException("the stand-in address no longer parses", e);
            }
        }

        @Override
        public String getLocalPart() {
            return localPart;
        }

        @Override
        public String getUser() {
            return localPart;
        }

        @Override
        public Domain getDomain() {
            return domain;
        }

        @Override
        public String getHost() {
            return domain.asString();
        }

        @Override
        public String asString() {
            return localPart + "@" + domain.asString();
        }

        @Override
        public String toString() {
            return asString();
        }

        /** JavaMail's InternetAddress takes no UTF-8 local part outside a session that allows it. */
        @Override
        public Optional<InternetAddress> toInternetAddress() {
            return Optional.empty();
        }
    }

    /**
     * Header bytes as text: UTF-8 where they are valid UTF-8 (RFC 6532 headers), else one character
     * per byte, as legacy 8-bit headers were read before.
     */
    public static String headerText(byte[] bytes) {
        return validUtf8(bytes) ? new String(bytes, StandardCharsets.UTF_8) : new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /**
     * Whether a message's header section holds non-ASCII UTF-8 text (RFC 6532): such a message may
     * go only to a server that offers SMTPUTF8. Other 8-bit bytes there are legacy text that 8BITMIME
     * has always carried.
     */
    public static boolean utf8Headers(byte[] headerSection) {
        boolean nonAscii = false;
        for (byte b : headerSection) {
            nonAscii |= b < 0;
        }
        return nonAscii && validUtf8(headerSection);
    }

    private static boolean validUtf8(byte[] bytes) {
        return validUtf8(bytes, 0, bytes.length);
    }

    /** Whether {@code length} bytes from {@code offset} are well-formed UTF-8. */
    public static boolean validUtf8(byte[] bytes, int offset, int length) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes, offset, length));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    /** The form Hearth compares addresses in: lower case (Locale.ROOT), Unicode NFC, the domain in A-labels. */
    public static String comparable(String address) {
        String a = java.text.Normalizer.normalize(address, java.text.Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
        int at = a.lastIndexOf('@');
        if (at < 0 || isAscii(a.substring(at + 1))) {
            return a;
        }
        try {
            // A domain is one name in U-labels or A-labels; the appliance's own are kept in A-labels.
            return a.substring(0, at + 1) + IDN.toASCII(a.substring(at + 1));
        } catch (IllegalArgumentException e) {
            return a;
        }
    }
}
