package org.hearth.mail.outbound.delivery;

import java.util.List;

/** One reply of a remote server: its code and its lines' text (RFC 5321 §4.2). */
record SmtpReply(int code, List<String> lines) {

    boolean positive() {
        return code >= 200 && code < 400;
    }

    boolean permanent() {
        return code >= 500;
    }

    /** "550 5.1.1 <x>: unknown" — the code and the lines joined, for envelopes, DSNs and logs. */
    @Override
    public String toString() {
        return code + " " + String.join(" ", lines);
    }
}
