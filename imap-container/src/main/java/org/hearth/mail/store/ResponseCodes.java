package org.hearth.mail.store;

import org.apache.james.imap.api.message.response.StatusResponse.ResponseCode;

/**
 * Response codes of RFC 7889 and RFC 5530 that James 3.8.1 cannot make: its factory only makes
 * extension codes, which it prefixes with X. Clients act on these names (offlineimap takes a
 * CREATE refused without [ALREADYEXISTS] for a failed sync).
 */
final class ResponseCodes {

    static final ResponseCode TOOBIG = named("TOOBIG");
    static final ResponseCode ALREADYEXISTS = named("ALREADYEXISTS");

    private ResponseCodes() {
    }

    private static ResponseCode named(String code) {
        try {
            var constructor = ResponseCode.class.getDeclaredConstructor(String.class);
            constructor.setAccessible(true);
            return constructor.newInstance(code);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
