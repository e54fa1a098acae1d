package org.hearth.core.manifest;

/** A manifest with the mail app's shape, for the supervisor's pure plans: every lifecycle, exposure and edge kind. */
public final class MailShapedManifest {

    /**
     * smtp-in: per-connection, public SMTP port also on the overlay, client of imap;
     * imap: service with an internal, a private and a second internal port, client of spam;
     * spam: per-message server.
     */
    public static final AppManifest MAIL = ManifestReader.read("app.yaml", """
            schema: 1
            app: mail
            version: 1.0.0
            containers:
              smtp-in:
                image: hearth/smtp-in
                lifecycle: per-connection
                ports: [{name: smtp, port: 2525, exposure: public, listen: 25, protocol: smtp, overlay: true}]
                edges: [{to: imap, port: lmtp}]
              imap:
                image: hearth/imap
                lifecycle: service
                ports:
                  - {name: lmtp, port: 2424, exposure: internal}
                  - {name: imap, port: 1143, exposure: private, listen: 143}
                  - {name: admin, port: 9000, exposure: internal}
                edges: [{to: spam, port: spamd}]
              spam:
                image: hearth/spam
                lifecycle: per-message
                ports: [{name: spamd, port: 7830, exposure: internal}]
            """);

    private MailShapedManifest() {
    }
}
