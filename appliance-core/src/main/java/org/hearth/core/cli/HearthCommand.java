package org.hearth.core.cli;

import org.hearth.core.HearthHome;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code hearth}: the appliance's command line. */
@Command(name = "hearth",
        mixinStandardHelpOptions = true,
        versionProvider = HearthCommand.Version.class,
        description = "Hearth: a cloud in every home. Runs apps as isolated containers; mail first.",
        subcommands = {DoctorCommand.class, UpCommand.class, DownCommand.class, StatusCommand.class, AppCommand.class,
                MailCommand.class, StorageCommands.Unlock.class, StorageCommands.Lock.class,
                StorageCommands.Passphrase.class, StorageCommands.Volume.class, SecretCommand.class,
                OverlayCommand.class, PairCommand.class, CertificateCommand.class, ImagesCommand.class, ImageCommand.class, CatalogCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class HearthCommand {

    @Option(names = "--debug", description = "Show stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where Hearth keeps its state (default: .state in the installation).",
            scope = CommandLine.ScopeType.INHERIT)
    Path stateDir;

    HearthHome home() {
        HearthHome home = HearthHome.fromSystemProperty();
        return stateDir == null ? home : home.withState(stateDir);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new HearthCommand());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            HearthCommand root = line.getCommandSpec().root().userObject() instanceof HearthCommand h ? h : null;
            if (root != null && root.debug) {
                e.printStackTrace(line.getErr());
            } else {
                line.getErr().println("hearth: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            }
            return 1;
        });
        return cli;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = HearthCommand.class.getPackage().getImplementationVersion();
            return new String[] {"hearth " + (v == null ? "(development build)" : v),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("os.arch") + ")"};
        }
    }
}
