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
 * {@code hearth mail}: the mail app's users, aliases and domains. Each change is a request to the
 * supervisor, which runs the store's own admin program inside its container (passwords go in on
 * its standard input, never as an argument); it takes effect without a restart.
 */
@Command(name = "mail", mixinStandardHelpOptions = true, description = "Manage the mail app's users, aliases and domains.",
        subcommands = {MailCommand.User.class, MailCommand.Alias.class, MailCommand.Domain.class})
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
                    new ControlRequest.MailAdmin(app, List.copyOf(args), new String(stdin, StandardCharsets.UTF_8)));
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

    private static List<String> prefixed(String noun, List<String> args) {
        List<String> all = new ArrayList<>();
        all.add(noun);
        all.addAll(args);
        return all;
    }
}
