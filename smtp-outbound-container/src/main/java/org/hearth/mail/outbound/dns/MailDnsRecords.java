package org.hearth.mail.outbound.dns;

import org.hearth.mail.outbound.dkim.DkimKey;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The DNS records a mail domain on this appliance needs, as zone file lines (what
 * {@code hearth mail dns DOMAIN} prints, and a paired box publishes through its registry). The
 * documents served over HTTPS beside them — the MTA-STS policy, autoconfig, autodiscover — are the
 * mail app's wellknown container's (image-build/images/mail-wellknown).
 *
 * <p>Two host names: {@code mxHost} is the public side (the MX, port 25, and the address mail is
 * sent from); {@code privateHost} is the owner's side, which resolves to the appliance's overlay
 * address, where IMAP and submission listen (they never listen publicly).
 *
 * @param reports  where DMARC aggregate and TLS reports go (a mailbox of the domain)
 * @param policyId the MTA-STS policy's id: changed whenever the policy changes (RFC 8461 §3.1); the
 *                 policy names only the MX host, so an id from that host's name changes with it
 */
public record MailDnsRecords(String domain, String mxHost, String privateHost, Ports ports, List<DkimKey> dkim,
                             String reports, String policyId) {

    /** The owner's ports on the private host: IMAPS, submission with STARTTLS, submission over TLS. */
    public record Ports(int imaps, int submission, int submissions) {
        public static Ports standard() {
            return new Ports(993, 587, 465);
        }
    }

    private static final String TTL = " 3600 IN ";
    private static final Pattern HOST =
            Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}");
    private static final Pattern MAILBOX = Pattern.compile("[A-Za-z0-9._+-]+@[a-z0-9.-]+");

    /** Names go into zone lines and quoted strings verbatim: anything but a host name is refused, by field. */
    public MailDnsRecords {
        for (var field : Map.of("domain", domain, "mxHost", mxHost, "privateHost", privateHost).entrySet()) {
            if (!HOST.matcher(field.getValue()).matches()) {
                throw new IllegalArgumentException(field.getKey() + ": not a host name: " + field.getValue());
            }
        }
        if (!MAILBOX.matcher(reports).matches()) {
            throw new IllegalArgumentException("reports: not a mailbox: " + reports);
        }
        if (!policyId.matches("[A-Za-z0-9]{1,32}")) {
            throw new IllegalArgumentException("policyId: 1 to 32 letters and digits (RFC 8461 §3.1): " + policyId);
        }
        dkim = List.copyOf(dkim);
    }

    public List<String> zoneLines() {
        String d = domain + ".";
        List<String> lines = new ArrayList<>();
        lines.add(d + TTL + "MX 10 " + mxHost + ".");
        // Only the MX host sends for the domain; everything else fails SPF. The MX host's own name
        // gets one too: notices come from MAILER-DAEMON@ it, and SPF then checks its HELO name.
        lines.add(d + TTL + "TXT \"v=spf1 mx -all\"");
        lines.add(mxHost + "." + TTL + "TXT \"v=spf1 a -all\"");
        dkim.forEach(k -> lines.add(k.zoneLine()));
        // Mail claiming the domain without an aligned SPF or DKIM pass is refused; Hearth signs
        // everything it sends with d=DOMAIN from the MX host, so strict alignment holds for it.
        lines.add("_dmarc." + d + TTL + "TXT \"v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:" + reports + "\"");
        // MTA-STS (RFC 8461) and TLS reporting (RFC 8460): senders must reach the MX over valid TLS.
        lines.add("_mta-sts." + d + TTL + "TXT \"v=STSv1; id=" + policyId + "\"");
        lines.add("_smtp._tls." + d + TTL + "TXT \"v=TLSRPTv1; rua=mailto:" + reports + "\"");
        // RFC 6186 / RFC 8314: mail clients find submission and IMAP from the address alone.
        lines.add("_submissions._tcp." + d + TTL + "SRV 0 1 " + ports.submissions() + " " + privateHost + ".");
        lines.add("_submission._tcp." + d + TTL + "SRV 0 1 " + ports.submission() + " " + privateHost + ".");
        lines.add("_imaps._tcp." + d + TTL + "SRV 0 1 " + ports.imaps() + " " + privateHost + ".");
        // RFC 6186 §3.4: "." as the target says plain IMAP is not offered.
        lines.add("_imap._tcp." + d + TTL + "SRV 0 0 0 .");
        return List.copyOf(lines);
    }
}
