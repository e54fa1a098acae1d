package org.hearth.mail.webmail;

import jakarta.activation.DataHandler;
import jakarta.activation.FileDataSource;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * A message the owner wrote, built as a MIME message and handed to submission with the owner's own
 * login, exactly as a desktop client would: submission signs, queues and delivers it, and checks
 * that the owner may send as the From address chosen.
 */
final class Outgoing {

    /** A file the owner attached, uploaded to the webmail's volume until the message is built. */
    record Upload(String name, String type, Path file) {
    }

    /** Why a message could not be built or sent, in words for the owner (with the server's reply code when there is one). */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private final MailServers servers;
    private final Session mailSession;

    Outgoing(MailServers servers) {
        this.servers = servers;
        // A message of many megabytes may take a while to go through submission's checks and signing.
        Properties p = servers.clientProperties("smtp", Duration.ofSeconds(60));
        p.setProperty("mail.smtp.auth", "true");
        p.setProperty("mail.mime.allowutf8", "true");
        this.mailSession = Session.getInstance(p);
    }

    /**
     * The message as it will be sent and kept in Sent or Drafts.
     *
     * @param original a forwarded message, attached whole (message/rfc822), if any
     */
    MimeMessage build(OwnerSession owner, Pages.Draft d, List<Upload> uploads, Optional<byte[]> original, boolean draft)
            throws Refused, MessagingException {
        if (!owner.addresses().contains(d.from())) {
            throw new Refused("From: " + d.from() + " is not one of your addresses");
        }
        String domain = d.from().substring(d.from().indexOf('@') + 1);
        MimeMessage m = new MimeMessage(mailSession) {
            @Override
            protected void updateMessageID() throws MessagingException {
                setHeader("Message-ID", "<" + UUID.randomUUID() + "@" + domain + ">");
            }
        };
        m.setFrom(new InternetAddress(d.from()));
        InternetAddress[] to = addresses("To", d.to());
        InternetAddress[] cc = addresses("Cc", d.cc());
        InternetAddress[] bcc = addresses("Bcc", d.bcc());
        if (!draft && to.length + cc.length + bcc.length == 0) {
            throw new Refused("To: name at least one recipient");
        }
        m.setRecipients(Message.RecipientType.TO, to);
        m.setRecipients(Message.RecipientType.CC, cc);
        m.setRecipients(Message.RecipientType.BCC, bcc);
        m.setSubject(d.subject(), "UTF-8");
        m.setSentDate(new Date());
        if (!d.inReplyTo().isBlank()) {
            m.setHeader("In-Reply-To", oneLine(d.inReplyTo()));
        }
        if (!d.references().isBlank()) {
            m.setHeader("References", oneLine(d.references()));
        }
        m.setHeader("User-Agent", "Hearth Mail");
        if (uploads.isEmpty() && original.isEmpty()) {
            m.setText(d.text(), "UTF-8");
        } else {
            MimeMultipart mixed = new MimeMultipart("mixed");
            MimeBodyPart text = new MimeBodyPart();
            text.setText(d.text(), "UTF-8");
            mixed.addBodyPart(text);
            for (Upload u : uploads) {
                MimeBodyPart file = new MimeBodyPart();
                FileDataSource source = new FileDataSource(u.file().toFile()) {
                    @Override
                    public String getContentType() {
                        return u.type();
                    }
                };
                file.setDataHandler(new DataHandler(source));
                file.setFileName(u.name());
                file.setDisposition(MimeBodyPart.ATTACHMENT);
                mixed.addBodyPart(file);
            }
            if (original.isPresent()) {
                MimeBodyPart attached = new MimeBodyPart();
                attached.setDataHandler(new DataHandler(new ByteArrayDataSource(original.get(), "message/rfc822")));
                attached.setFileName(fileSafe(d.subject()) + ".eml");
                attached.setDisposition(MimeBodyPart.ATTACHMENT);
                mixed.addBodyPart(attached);
            }
            m.setContent(mixed);
        }
        m.saveChanges();
        return m;
    }

    /** Hands the message to submission; returns when submission answered 250 (queued durably there). */
    void send(OwnerSession owner, MimeMessage m) throws Refused, MessagingException {
        if (m.getAllRecipients() == null || m.getAllRecipients().length == 0) {
            throw new Refused("To: name at least one recipient");
        }
        try (Transport t = mailSession.getTransport("smtp")) {
            t.connect(servers.submission().getHostString(), servers.submission().getPort(), owner.user(), owner.password());
            t.sendMessage(m, m.getAllRecipients());
        } catch (SMTPAddressFailedException e) {
            throw new Refused("Not sent: " + e.getAddress() + " was refused: " + e.getReturnCode() + " " + e.getMessage().strip());
        } catch (SMTPSendFailedException e) {
            Exception next = e.getNextException();
            if (next instanceof SMTPAddressFailedException a) {
                throw new Refused("Not sent: " + a.getAddress() + " was refused: " + a.getReturnCode() + " " + a.getMessage().strip());
            }
            throw new Refused("Not sent: the server answered " + e.getReturnCode() + " " + e.getMessage().strip());
        } catch (jakarta.mail.AuthenticationFailedException e) {
            throw new Refused("Not sent: submission refused your login (" + e.getMessage() + "); log in again");
        } catch (MessagingException e) {
            throw new Refused("Not sent: the sending service could not be reached (" + e.getMessage() + "); try again shortly");
        }
    }

    private static InternetAddress[] addresses(String field, String value) throws Refused {
        if (value == null || value.isBlank()) {
            return new InternetAddress[0];
        }
        try {
            InternetAddress[] parsed = InternetAddress.parse(value.replace(';', ','), true);
            List<InternetAddress> out = new ArrayList<>();
            for (InternetAddress a : parsed) {
                a.validate();
                if (!a.getAddress().contains("@")) {
                    throw new AddressException("no @ in it", a.getAddress());
                }
                out.add(a);
            }
            return out.toArray(InternetAddress[]::new);
        } catch (AddressException e) {
            throw new Refused(field + ": \"" + Optional.ofNullable(e.getRef()).orElse(value) + "\" is not an address ("
                    + e.getMessage().replaceAll(" in string ``.*''.*", "") + ")");
        }
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n]+", " ").strip();
    }

    private static String fileSafe(String subject) {
        String s = subject.replaceAll("[\\\\/:*?\"<>|\\p{Cntrl}]", "_").strip();
        return s.isEmpty() ? "message" : s.substring(0, Math.min(60, s.length()));
    }
}
