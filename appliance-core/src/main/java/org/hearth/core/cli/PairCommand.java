package org.hearth.core.cli;

import org.hearth.core.ApplianceConfig;
import org.hearth.core.HearthHome;
import org.hearth.core.pairing.PairingState;
import org.hearth.core.supervisor.SupervisorProcess;
import org.hearth.registry.protocol.PairingCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.net.URI;
import java.util.concurrent.Callable;

/** {@code hearth pair}: this box's pairing code, its link and QR code, for the owner's phone. */
@Command(name = "pair", mixinStandardHelpOptions = true,
        description = {"Show the code that pairs this box with its owner's phone, as a link and a QR code to scan.",
                "The phone opens the link; the code (after the #) never reaches a server. A code pairs once."})
final class PairCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    @Option(names = "--new", description = "Make a new code (the old one stops working): for a code that leaked, or, once"
            + " paired, a new phone in place of a lost one (asked for the box's password).")
    boolean fresh;

    @Mixin
    QrOptions qr;

    @Override
    public Integer call() throws Exception {
        HearthHome home = root.home();
        URI registry = ApplianceConfig.read(home).registry().url().orElseThrow(() -> new IllegalArgumentException(
                "this box has no registry to pair through: set registry.url in " + ApplianceConfig.file(home)));
        PairingState state = new PairingState(home.stateDir("pairing"));
        if (!fresh && state.paired().isPresent() && state.code().isEmpty()) {
            PairingState.Paired paired = state.paired().get();
            System.out.println("This box is paired: " + paired.domain() + " (" + paired.address() + "), since "
                    + paired.pairedAt() + ". To pair a phone again: hearth pair --new");
            return 0;
        }
        PairingCode code = fresh ? state.newCode() : state.code().orElseThrow();
        String link = registry + "/pair#code=" + code.format();
        System.out.println("Pairing code: " + code.format());
        System.out.println("On your phone, open: " + link);
        qr.show(link, "Scan it with the phone's camera.");
        if (SupervisorProcess.running(home).isEmpty()) {
            System.out.println("The box is not running: start it (hearth up) and it waits for the phone at " + registry);
        } else if (fresh) {
            System.out.println("The box waits for the phone with this code within half a minute; the old code no longer works.");
        }
        return 0;
    }
}
