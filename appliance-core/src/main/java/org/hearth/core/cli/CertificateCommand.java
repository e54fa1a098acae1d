package org.hearth.core.cli;

import org.hearth.core.certificates.CertificateAgent;
import org.hearth.core.HearthHome;
import org.hearth.core.certificates.BoxCertificate;
import org.hearth.core.pairing.PairingState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code hearth certificate renew}: a new key and certificate now, not 30 days before expiry. */
@Command(name = "certificate", mixinStandardHelpOptions = true,
        description = "The certificates a paired box keeps for its names (hearth status shows them).",
        subcommands = CertificateCommand.Renew.class)
final class CertificateCommand {

    @ParentCommand
    HearthCommand root;

    @Command(name = "renew", mixinStandardHelpOptions = true,
            description = {"Renew now, with a new key: after a key may have leaked, or to try a new CA.",
                    "The running servers take the new certificate at their next handshake; nothing restarts."})
    static final class Renew implements Callable<Integer> {

        @ParentCommand
        CertificateCommand parent;

        @Parameters(paramLabel = "HOST", arity = "0..*", description = "Only these host names (default: all of the box's).")
        List<String> only = List.of();

        @Override
        public Integer call() throws Exception {
            HearthHome home = parent.root.home();
            String domain = new PairingState(home.stateDir("pairing")).published().orElseThrow(() ->
                    new IllegalArgumentException("this box is not paired yet, so it has no certificates (hearth pair)"))
                    .domain();
            Map<String, List<String>> certificates = CertificateAgent.wanted(home, domain);
            Set<String> asked = new java.util.TreeSet<>();
            for (String host : only) {
                // Any of a certificate's names renews that certificate.
                String named = certificates.entrySet().stream().filter(c -> c.getValue().contains(host)).map(Map.Entry::getKey)
                        .findFirst().orElseThrow(() -> new IllegalArgumentException("neither the box nor an installed app asks for a certificate for "
                                + host + " (the box's hosts: " + String.join(", ", certificates.values().stream()
                                .flatMap(List::stream).toList()) + ")"));
                asked.add(named);
            }
            for (String host : only.isEmpty() ? certificates.keySet() : asked) {
                Path folder = Files.createDirectories(BoxCertificate.folder(home.stateDir("certificates"), host));
                Files.writeString(folder.resolve(BoxCertificate.RENEW_ASKED), "");
                System.out.println(host + ": renewal asked; the supervisor renews it within seconds (hearth status shows it)");
            }
            return 0;
        }
    }
}
