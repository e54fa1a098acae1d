package org.hearth.mail.store;

import org.hearth.mail.common.AuthThrottle;
import org.hearth.mail.common.StoreLogin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The store's login check for submission and its list of local domains ({@link StoreLogin}'s
 * protocol), on an internal port that only the outbound container's edge reaches: the accounts and their Argon2id hashes never leave
 * the store. Failures are throttled per user name and per asking address, so a guesser gains
 * nothing by going through submission. Two threads: an Argon2id check costs ≈ 19 MiB and tens of
 * milliseconds, and the box has little of either.
 */
final class LoginService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LoginService.class);
    private static final int READ_TIMEOUT_MS = 10_000;

    private final Accounts accounts;
    private final AuthThrottle throttle;
    private final ServerSocket server;
    private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "store-login");
        t.setDaemon(true);
        return t;
    });

    LoginService(Accounts accounts, AuthThrottle throttle, InetSocketAddress bind) throws IOException {
        this.accounts = accounts;
        this.throttle = throttle;
        this.server = new ServerSocket();
        server.bind(bind);
        Thread acceptor = new Thread(this::acceptLoop, "store-login-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                workers.execute(() -> answer(s));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warn("event=login-accept-failed error={}", e.getMessage());
                }
            }
        }
    }

    private void answer(Socket s) {
        try (s) {
            s.setSoTimeout(READ_TIMEOUT_MS);
            String line = StoreLogin.readRequestLine(s.getInputStream(), StoreLogin.MAX_LINE);
            if (line.equals(StoreLogin.DOMAINS)) {
                s.getOutputStream().write(StoreLogin.answerLine(new StoreLogin.Answer.Ok(accounts.current().domains()))
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            Optional<StoreLogin.LoginRequest> request = StoreLogin.parseRequest(line);
            if (request.isEmpty()) {
                return;
            }
            String user = request.get().user().toLowerCase(Locale.ROOT);
            // Failures count per client the asking container names (every login reaches the store from
            // that container, so one guesser must not lock out everyone who logs in through it), and
            // within that asker only: no asker can spend another's allowance.
            String asker = s.getInetAddress().getHostAddress();
            String client = request.get().client().map(c -> asker + " for " + c).orElse(asker);
            s.getOutputStream().write(StoreLogin.answerLine(check(user, request.get().password(), client))
                    .getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            LOG.debug("event=login-connection-failed error={}", e.getMessage());
        }
    }

    private StoreLogin.Answer check(String user, String password, String client) {
        Optional<Duration> wait = throttle.refusal(user, client);
        if (wait.isPresent()) {
            return new StoreLogin.Answer.Wait(Math.max(1, wait.get().toSeconds()));
        }
        if (!accounts.authenticate(user, password.toCharArray())) {
            throttle.failed(user, client);
            LOG.info("event=login-refused user={} client={}", user, client);
            return new StoreLogin.Answer.Refused();
        }
        throttle.succeeded(user, client);
        return new StoreLogin.Answer.Ok(addressesOf(user));
    }

    /** The user's own address and every alias that delivers to it. */
    private Set<String> addressesOf(String user) {
        Set<String> addresses = new TreeSet<>();
        addresses.add(user);
        accounts.current().aliases().forEach((alias, target) -> {
            if (target.equals(user)) {
                addresses.add(alias);
            }
        });
        return addresses;
    }

    @Override
    public void close() throws IOException {
        server.close();
        workers.shutdownNow();
    }
}
