package org.hearth.mail.store;

import org.hearth.mail.common.Smtputf8;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Changes the mail app's accounts; run inside the store container by {@code hearth mail ...}.
 * Passwords arrive on standard input, never as arguments. The running servers pick changes up
 * by themselves. Exit codes: 0 done, 2 refused (the message says why).
 */
public final class MailAdmin {

    private static final Pattern DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+");
    private static final Pattern LOCAL_PART = Pattern.compile("[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}");
    static final int MIN_PASSWORD = 8;

    private MailAdmin() {
    }

    public static void main(String[] args) throws IOException {
        Accounts accounts = new Accounts(Path.of(MailStore.env("MAIL_DATA", "/data")).resolve("accounts.json"));
        try {
            System.out.print(run(accounts, List.of(args), System.in));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }

    /** Runs one command; returns what to print. Refusals are IllegalArgumentExceptions. */
    static String run(Accounts accounts, List<String> args, InputStream stdin) throws IOException {
        String command = args.size() >= 2 ? args.get(0) + " " + args.get(1) : String.join(" ", args);
        List<String> rest = args.size() > 2 ? args.subList(2, args.size()) : List.of();
        switch (command) {
            case "domain add" -> {
                String domain = domain(one(rest, "DOMAIN"));
                accounts.update(d -> {
                    d.domains().add(domain);
                    return d;
                });
                return "added domain " + domain + "\n";
            }
            case "domain remove" -> {
                String domain = domain(one(rest, "DOMAIN"));
                accounts.update(d -> {
                    if (d.users().keySet().stream().anyMatch(u -> u.endsWith("@" + domain))) {
                        throw new IllegalArgumentException("domain " + domain + " still has users: remove them first");
                    }
                    d.aliases().keySet().removeIf(a -> a.endsWith("@" + domain));
                    d.domains().remove(domain);
                    return d;
                });
                return "removed domain " + domain + "\n";
            }
            case "domain list" -> {
                return lines(List.copyOf(accounts.current().domains()));
            }
            case "user add", "user passwd" -> {
                String user = address(one(rest, "ADDRESS"));
                char[] password = password(stdin);
                String hash = PasswordHash.hash(password);
                Arrays.fill(password, '\0');
                boolean add = command.equals("user add");
                accounts.update(d -> {
                    requireDomain(d, user);
                    if (add && d.users().containsKey(user)) {
                        throw new IllegalArgumentException("user " + user + " exists (change its password with: user passwd)");
                    }
                    if (!add && !d.users().containsKey(user)) {
                        throw new IllegalArgumentException("no user " + user);
                    }
                    if (d.aliases().containsKey(user)) {
                        throw new IllegalArgumentException(user + " is an alias; remove the alias first");
                    }
                    d.users().put(user, hash);
                    return d;
                });
                return (add ? "added user " : "changed the password of ") + user + "\n";
            }
            case "user remove" -> {
                String user = address(one(rest, "ADDRESS"));
                accounts.update(d -> {
                    if (d.users().remove(user) == null) {
                        throw new IllegalArgumentException("no user " + user);
                    }
                    d.aliases().values().removeIf(user::equals);
                    return d;
                });
                return "removed user " + user + " (its mail stays in the store)\n";
            }
            case "user list" -> {
                return lines(List.copyOf(accounts.current().users().keySet()));
            }
            case "alias add" -> {
                if (rest.size() != 2) {
                    throw new IllegalArgumentException("usage: alias add ALIAS TARGET");
                }
                String alias = aliasAddress(rest.get(0));
                String target = address(rest.get(1));
                accounts.update(d -> {
                    requireDomain(d, alias);
                    if (!d.users().containsKey(target)) {
                        throw new IllegalArgumentException("target " + target + " is not a user here");
                    }
                    if (d.users().containsKey(alias)) {
                        throw new IllegalArgumentException(alias + " is a user; an alias needs an address of its own");
                    }
                    d.aliases().put(alias, target);
                    return d;
                });
                return "added alias " + alias + " -> " + target + "\n";
            }
            case "alias remove" -> {
                String alias = aliasAddress(one(rest, "ALIAS"));
                accounts.update(d -> {
                    if (d.aliases().remove(alias) == null) {
                        throw new IllegalArgumentException("no alias " + alias);
                    }
                    return d;
                });
                return "removed alias " + alias + "\n";
            }
            case "alias list" -> {
                StringBuilder out = new StringBuilder();
                for (Map.Entry<String, String> e : accounts.current().aliases().entrySet()) {
                    out.append(e.getKey()).append(" -> ").append(e.getValue()).append('\n');
                }
                return out.toString();
            }
            default -> throw new IllegalArgumentException("unknown command \"" + command + "\" (domain add|remove|list,"
                    + " user add|remove|list|passwd, alias add|remove|list)");
        }
    }

    private static String one(List<String> rest, String what) {
        if (rest.size() != 1) {
            throw new IllegalArgumentException("expected one " + what);
        }
        return rest.get(0);
    }

    static String domain(String text) {
        String d = text.toLowerCase(Locale.ROOT);
        if (!DOMAIN.matcher(d).matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a domain name");
        }
        return d;
    }

    static String address(String text) {
        String a = text.toLowerCase(Locale.ROOT);
        int at = a.lastIndexOf('@');
        if (at <= 0 || !LOCAL_PART.matcher(a.substring(0, at)).matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a mail address (local@domain)");
        }
        domain(a.substring(at + 1));
        return a;
    }

    /**
     * An alias may have a non-ASCII local part (RFC 6531: mail to and from it needs SMTPUTF8, which
     * the store and submission speak); a user's address is also its IMAP login, and James's IMAP
     * has no UTF8=ACCEPT (RFC 6855), so users stay ASCII. Kept as Hearth compares addresses: lower
     * case, NFC.
     */
    static String aliasAddress(String text) {
        if (Smtputf8.isAscii(text)) {
            return address(text);
        }
        try {
            Smtputf8.address(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a mail address: " + e.getMessage());
        }
        String a = Smtputf8.comparable(text);
        domain(a.substring(a.lastIndexOf('@') + 1));
        return a;
    }

    private static void requireDomain(Accounts.Data d, String address) {
        String domain = address.substring(address.lastIndexOf('@') + 1);
        if (!d.domains().contains(domain)) {
            throw new IllegalArgumentException("domain " + domain + " is not served here (add it: domain add " + domain + ")");
        }
    }

    /** The first line of standard input; the caller may keep its end open, so read no further. */
    private static char[] password(InputStream stdin) throws IOException {
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        for (int b; (b = stdin.read()) >= 0 && b != '\n'; ) {
            line.write(b);
        }
        String password = line.toString(StandardCharsets.UTF_8).replace("\r", "");
        if (password.length() < MIN_PASSWORD) {
            throw new IllegalArgumentException("the password must have at least " + MIN_PASSWORD + " characters");
        }
        return password.toCharArray();
    }

    private static String lines(List<String> items) {
        return items.isEmpty() ? "" : String.join("\n", items) + "\n";
    }
}
