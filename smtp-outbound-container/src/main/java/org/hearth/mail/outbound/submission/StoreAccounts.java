package org.hearth.mail.outbound.submission;

import org.hearth.mail.common.StoreLogin;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** Submission's logins, checked by the store over its login port ({@link StoreLogin}); no password stays here. */
public final class StoreAccounts implements SubmissionServer.Accounts {

    private final InetSocketAddress store;
    private final Duration timeout;

    public StoreAccounts(InetSocketAddress store, Duration timeout) {
        this.store = store;
        this.timeout = timeout;
    }

    @Override
    public Optional<Set<String>> authenticate(String user, String password, String client) throws IOException {
        StoreLogin.Answer answer = StoreLogin.ask(store, user, password, client, timeout);
        if (answer instanceof StoreLogin.Answer.Ok ok) {
            return Optional.of(ok.addresses());
        }
        if (answer instanceof StoreLogin.Answer.Wait wait) {
            throw new IOException("the store asks to wait " + wait.seconds() + " s after failed logins");
        }
        return Optional.empty();
    }
}
