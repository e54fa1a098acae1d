package org.hearth.mail.common;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The store's login check for the other mail containers (submission), and which domains are
 * local (outbound delivers those to the store): one line each way over the internal network, so
 * that only the store ever holds the accounts and their Argon2id hashes.
 * <pre>
 *   LOGIN base64(user) base64(password) [base64(client)]
 *   OK base64(address) base64(address) ...     the user's own address and their aliases
 *   NO                                         wrong user or password
 *   WAIT seconds                               too many failures: not even checked
 *
 *   DOMAINS
 *   OK base64(domain) base64(domain) ...       the domains the store holds mailboxes for
 * </pre>
 */
public final class StoreLogin {

    /** A request line is at most this long: a user name and a password, base64. */
    public static final int MAX_LINE = 4096;

    public sealed interface Answer {
        record Ok(Set<String> addresses) implements Answer {
        }

        record Refused() implements Answer {
        }

        record Wait(long seconds) implements Answer {
        }
    }

    private StoreLogin() {
    }

    /**
     * One request line from a peer, without its line ending, refused past {@code max} bytes: the
     * server side of this protocol and of the outbound service's admin socket. Read a byte at a
     * time, so nothing after the line is consumed.
     */
    public static String readRequestLine(InputStream in, int max) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
            if (line.size() >= max) {
                throw new IOException("request line too long");
            }
            line.write(c);
        }
        return line.toString(StandardCharsets.US_ASCII).strip();
    }

    /** The request line that asks for the store's domains. */
    public static final String DOMAINS = "DOMAINS";

    /**
     * Asks the store at {@code store} for {@code client}, the address the login came from (a browser,
     * a mail client): the store throttles failures per user and per client, and every login reaches it
     * from the asking container. An IOException means no answer (try later), never a refusal.
     */
    public static Answer ask(InetSocketAddress store, String user, String password, String client, Duration timeout)
            throws IOException {
        return parseAnswer(exchange(store, "LOGIN " + b64(user) + " " + b64(password) + " " + b64(client), timeout));
    }

    /** A login request: who, with what password, from which client (the asker's word; absent from older askers). */
    public record LoginRequest(String user, String password, Optional<String> client) {
    }

    /** The domains the store holds mailboxes for; an IOException when it does not answer. */
    public static Set<String> domains(InetSocketAddress store, Duration timeout) throws IOException {
        if (parseAnswer(exchange(store, DOMAINS, timeout)) instanceof Answer.Ok ok) {
            return ok.addresses();
        }
        throw new IOException("the store refused to list its domains");
    }

    private static String exchange(InetSocketAddress store, String request, Duration timeout) throws IOException {
        try (Socket s = new Socket()) {
            // Resolved on every ask: the store's address may change when its container is recreated.
            s.connect(store.isUnresolved() ? new InetSocketAddress(store.getHostString(), store.getPort()) : store,
                    (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            OutputStream out = s.getOutputStream();
            out.write((request + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    static Answer parseAnswer(String line) throws IOException {
        if (line == null) {
            throw new IOException("the store closed without answering");
        }
        String[] words = line.split(" ");
        return switch (words[0]) {
            case "OK" -> new Answer.Ok(Arrays.stream(words).skip(1).map(StoreLogin::unb64)
                    .collect(Collectors.toCollection(TreeSet::new)));
            case "NO" -> new Answer.Refused();
            case "WAIT" -> new Answer.Wait(words.length > 1 && words[1].matches("\\d{1,9}") ? Long.parseLong(words[1]) : 1);
            default -> throw new IOException("not a store login answer: " + line.substring(0, Math.min(40, line.length())));
        };
    }

    /** The store's side: a request line's user, password and client; empty when the line is not one. */
    public static Optional<LoginRequest> parseRequest(String line) {
        String[] words = line == null ? new String[0] : line.split(" ");
        if (words.length < 3 || words.length > 4 || !words[0].equals("LOGIN")) {
            return Optional.empty();
        }
        try {
            return Optional.of(new LoginRequest(unb64(words[1]), unb64(words[2]),
                    words.length == 4 ? Optional.of(unb64(words[3])) : Optional.empty()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The store's side: the answer line for an answer. */
    public static String answerLine(Answer answer) {
        if (answer instanceof Answer.Ok ok) {
            return "OK" + ok.addresses().stream().map(a -> " " + b64(a)).collect(Collectors.joining()) + "\r\n";
        }
        return answer instanceof Answer.Wait wait ? "WAIT " + wait.seconds() + "\r\n" : "NO\r\n";
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String unb64(String s) {
        return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }
}
