package org.hearth.core.cli;

import org.hearth.core.supervisor.ControlRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code hearth mail}: the mail app's users, aliases and domains, its DNS records, DKIM keys and
 * outgoing queue. Each is a request to the supervisor, which runs the container's own admin program
 * inside it (passwords go in on its standard input, never as an argument); changes take effect
 * without a restart.
 */
@Command(name = "mail", mixinStandardHelpOptions = true,
        description = "Manage the mail app's users, aliases, domains, DNS records, DKIM keys and outgoing queue.",
        subcommands = {MailCommand.User.class, MailCommand.Alias.class, MailCommand.Domain.class, MailCommand.Dns.class,
                MailCommand.Dkim.class, MailCommand.Queue.class})
final class MailCommand {

    static final String APP = "mail";

    @ParentCommand
    HearthCommand root;

    @Option(names = "--app", defaultValue = APP, paramLabel = "APP",
            description = "The installed mail app to manage (default: ${DEFAULT-VALUE}).")
    String app = APP;

    /** Runs the store's admin program with {@code args}; prints its answer. */
    int admin(List<String> args, byte[] stdin) throws IOException {
        System.out.print(run(args, stdin));
        return 0;
    }

    /** Runs the store's admin program through the supervisor and returns what it printed; a refusal is an exception. */
    String run(List<String> args, byte[] stdin) throws IOException {
        try {
            return ControlClient.message(root.home(),
                    new ControlRequest.AppAdmin(app, List.copyOf(args), new String(stdin, StandardCharsets.UTF_8)));
        } finally {
            Arrays.fill(stdin, (byte) 0);
        }
    }

    /** A new password: typed twice at a terminal, else the first line of standard input. */
    static byte[] readPassword(String address) throws IOException {
        char[] password = Secrets.read("password for " + address, true, "password");
        byte[] bytes = (new String(password) + "\n").getBytes(StandardCharsets.UTF_8);
        Arrays.fill(password, '\0');
        return bytes;
    }

    @Command(name = "user", mixinStandardHelpOptions = true,
            description = "user add|passwd ADDRESS (password from a prompt or standard input), user remove ADDRESS, user list")
    static final class User implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "ACTION ARGS", arity = "1..2")
        List<String> args;

        @Override
        public Integer call() throws IOException {
            boolean needsPassword = (args.get(0).equals("add") || args.get(0).equals("passwd")) && args.size() == 2;
            return mail.admin(prefixed("user", args), needsPassword ? readPassword(args.get(1)) : new byte[0]);
        }
    }

    @Command(name = "alias", mixinStandardHelpOptions = true,
            description = "alias add ALIAS TARGET, alias remove ALIAS, alias list")
    static final class Alias implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "ACTION ARGS", arity = "1..3")
        List<String> args;

        @Override
        public Integer call() throws IOException {
            return mail.admin(prefixed("alias", args), new byte[0]);
        }
    }

    @Command(name = "domain", mixinStandardHelpOptions = true, description = "domain add|remove DOMAIN, domain list")
    static final class Domain implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "ACTION ARGS", arity = "1..2")
        List<String> args;

        @Override
        public Integer call() throws IOException {
            return mail.admin(prefixed("domain", args), new byte[0]);
        }
    }

    @Command(name = "dns", mixinStandardHelpOptions = true,
            description = "dns DOMAIN: the records the domain needs (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV), as zone file lines")
    static final class Dns implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "DOMAIN", arity = "1")
        String domain;

        @Override
        public Integer call() throws IOException {
            return mail.admin(List.of("dns", domain), new byte[0]);
        }
    }

    @Command(name = "dkim", mixinStandardHelpOptions = true,
            description = "dkim list DOMAIN, dkim rotate DOMAIN (new keys, not signing yet), "
                    + "dkim activate DOMAIN [--unchecked] (once DNS has them)")
    static final class Dkim implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "ACTION DOMAIN", arity = "2")
        List<String> args;

        @Option(names = "--unchecked", description = "activate: do not check that DNS publishes the new keys first")
        boolean unchecked;

        @Override
        public Integer call() throws IOException {
            List<String> all = new ArrayList<>(prefixed("dkim", args));
            if (unchecked) {
                all.add("--unchecked");
            }
            return mail.admin(all, new byte[0]);
        }
    }

    @Command(name = "queue", mixinStandardHelpOptions = true,
            description = "queue list, queue retry ID|all, queue delete ID: mail waiting to leave")
    static final class Queue implements Callable<Integer> {
        @ParentCommand
        MailCommand mail;

        @Parameters(paramLabel = "ACTION ARGS", arity = "0..2")
        List<String> args = List.of();

        @Override
        public Integer call() throws IOException {
            return mail.admin(prefixed("queue", args.isEmpty() ? List.of("list") : args), new byte[0]);
        }
    }

    private static List<String> prefixed(String noun, List<String> args) {
        List<String> all = new ArrayList<>();
        all.add(noun);
        all.addAll(args);
        return all;
    }
}
