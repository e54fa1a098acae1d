package org.hearth.mail.webmail;

import org.hearth.mail.common.AuthThrottle;
import org.hearth.mail.common.StoreLogin;

import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Checks an owner's login with the store (which alone holds the Argon2id hashes), throttled here
 * per account and per browser address: the store sees every webmail login as coming from this
 * container, so only the webmail can tell one browser from another.
 */
final class LoginGate {

    sealed interface Outcome {
        record Admitted(String user, Set<String> addresses) implements Outcome {
        }

        record Refused() implements Outcome {
        }

        record Wait(long seconds) implements Outcome {
        }

        record Unavailable(String why) implements Outcome {
        }
    }

    private final AuthThrottle throttle = AuthThrottle.standard();

    Outcome check(MailServers servers, String user, String password, String client) {
        String name = user.strip().toLowerCase(Locale.ROOT);
        if (name.isEmpty() || password.isEmpty() || name.length() > 320 || password.length() > 1024) {
            return new Outcome.Refused();
        }
        Optional<Duration> wait = throttle.refusal(name, client);
        if (wait.isPresent()) {
            return new Outcome.Wait(Math.max(1, wait.get().toSeconds()));
        }
        StoreLogin.Answer answer;
        try {
            answer = StoreLogin.ask(servers.login(), name, password, client, servers.timeout());
        } catch (IOException e) {
            return new Outcome.Unavailable(e.getMessage());
        }
        if (answer instanceof StoreLogin.Answer.Ok ok) {
            throttle.succeeded(name, client);
            return new Outcome.Admitted(name, ok.addresses());
        }
        if (answer instanceof StoreLogin.Answer.Wait w) {
            return new Outcome.Wait(Math.max(1, w.seconds()));
        }
        throttle.failed(name, client);
        return new Outcome.Refused();
    }
}
