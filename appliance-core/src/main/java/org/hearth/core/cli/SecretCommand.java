package org.hearth.core.cli;

import org.hearth.core.supervisor.ControlRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

/**
 * Secrets the appliance's containers use, kept in the key vault under the owner's passphrase
 * (never in appliance.yaml): today the smarthost's password, relay-password.
 */
@Command(name = "secret", mixinStandardHelpOptions = true,
        description = "secret set NAME (the value from a prompt or standard input), secret remove NAME, secret list."
                + " Storage must be unlocked. Known names: relay-password (appliance.yaml egress.relay).",
        subcommands = {SecretCommand.Set.class, SecretCommand.Remove.class, SecretCommand.List.class})
final class SecretCommand {

    @ParentCommand
    HearthCommand root;

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Store a secret; the containers that use it get it at once.")
    static final class Set implements Callable<Integer> {
        @ParentCommand
        SecretCommand parent;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            String value = new String(Secrets.read(name, true, name));
            System.out.println(ControlClient.message(parent.root.home(), new ControlRequest.SetSecret(name, value)));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Forget a secret.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        SecretCommand parent;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.message(parent.root.home(), new ControlRequest.RemoveSecret(name)));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The names of the secrets set (never their values).")
    static final class List implements Callable<Integer> {
        @ParentCommand
        SecretCommand parent;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.message(parent.root.home(), new ControlRequest.ListSecrets()));
            return 0;
        }
    }
}
