package org.hearth.core.cli;

import org.hearth.core.supervisor.ControlRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * The owner's storage commands: all go to the running supervisor, which holds the master key.
 * Passphrases come from a terminal prompt or standard input (one per line), never arguments.
 */
final class StorageCommands {

    private StorageCommands() {
    }

    /** A passphrase from a prompt (twice when {@code confirm}) or the next line of standard input; never empty. */
    static String readPassphrase(String prompt, boolean confirm) throws IOException {
        char[] passphrase = Secrets.read(prompt, confirm, "passphrase");
        if (passphrase.length == 0) {
            throw new IllegalArgumentException("no passphrase given (" + prompt + ")");
        }
        return new String(passphrase);
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true,
            description = "Unlock encrypted storage with the owner's passphrase (prompt or standard input); "
                    + "the first unlock sets the passphrase. Apps with volumes start.")
    static final class Unlock implements Callable<Integer> {
        @ParentCommand
        HearthCommand root;

        @Override
        public Integer call() throws Exception {
            boolean first = !java.nio.file.Files.exists(root.home().state().resolve("keys.json"));
            ControlRequest request = new ControlRequest.Unlock(
                    readPassphrase(first ? "new passphrase (it cannot be recovered)" : "passphrase", first));
            System.out.println(ControlClient.message(root.home(), request));
            return 0;
        }
    }

    @Command(name = "lock", mixinStandardHelpOptions = true,
            description = "Lock encrypted storage: apps' containers with volumes stop, volumes close, the key is forgotten.")
    static final class Lock implements Callable<Integer> {
        @ParentCommand
        HearthCommand root;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.message(root.home(), new ControlRequest.Lock()));
            return 0;
        }
    }

    @Command(name = "passphrase", mixinStandardHelpOptions = true, description = "passphrase change: re-wraps the master key; no data is touched.",
            subcommands = Passphrase.Change.class)
    static final class Passphrase {
        @ParentCommand
        HearthCommand root;

        @Command(name = "change", mixinStandardHelpOptions = true,
                description = "Change the owner's passphrase: current, then new (prompt, or two lines of standard input).")
        static final class Change implements Callable<Integer> {
            @ParentCommand
            Passphrase parent;

            @Override
            public Integer call() throws Exception {
                ControlRequest request = new ControlRequest.ChangePassphrase(readPassphrase("current passphrase", false),
                        readPassphrase("new passphrase", true));
                System.out.println(ControlClient.message(parent.root.home(), request));
                return 0;
            }
        }
    }

    @Command(name = "volume", mixinStandardHelpOptions = true, description = "volume grow APP VOLUME SIZE",
            subcommands = Volume.Grow.class)
    static final class Volume {
        @ParentCommand
        HearthCommand root;

        @Command(name = "grow", mixinStandardHelpOptions = true,
                description = "Grow an app's volume to SIZE (e.g. 2GiB); the app's containers with volumes restart.")
        static final class Grow implements Callable<Integer> {
            @ParentCommand
            Volume parent;

            @Parameters(index = "0", paramLabel = "APP")
            String app;

            @Parameters(index = "1", paramLabel = "VOLUME")
            String volume;

            @Parameters(index = "2", paramLabel = "SIZE")
            String size;

            @Override
            public Integer call() throws Exception {
                if (!size.matches("[1-9][0-9]*(MiB|GiB)")) {
                    throw new IllegalArgumentException("SIZE \"" + size + "\": write it as a number and MiB or GiB, e.g. 2GiB");
                }
                long n = Long.parseLong(size.replaceAll("\\D", ""));
                long bytes = size.endsWith("GiB") ? n << 30 : n << 20;
                System.out.println(ControlClient.message(parent.root.home(), new ControlRequest.GrowVolume(app, volume, bytes)));
                return 0;
            }
        }
    }
}
