package org.hearth.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import org.hearth.core.doctor.HostCheck;
import org.hearth.core.doctor.HostDoctor;
import org.hearth.core.runtime.Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check this machine for what Hearth needs; one line each, with the fix. "
                + "Exits 0 when Hearth can run.")
final class DoctorCommand implements Callable<Integer> {

    @ParentCommand
    HearthCommand root;

    @Option(names = "--json", description = "Print the checks as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<HostCheck> checks = new HostDoctor(Engine.defaultHost(), root.home().state()).run();
        boolean canRun = checks.stream().noneMatch(HostCheck::blocksHearth);
        if (json) {
            ObjectMapper mapper = new ObjectMapper().registerModule(new Jdk8Module())
                    .enable(SerializationFeature.INDENT_OUTPUT);
            System.out.println(mapper.writeValueAsString(new Report(canRun, checks)));
        } else {
            for (HostCheck c : checks) {
                String status = c.ok() ? "OK" : c.required() ? "MISSING" : "MISSING (optional)";
                System.out.printf("%-19s %-18s %s%s%n", status, c.name(), c.detail(),
                        c.fix().map(f -> " -- fix: " + f).orElse(""));
            }
            System.out.println(canRun ? "Hearth can run here." : "Hearth cannot run here until the MISSING lines are fixed.");
        }
        return canRun ? 0 : 1;
    }

    record Report(boolean canRun, List<HostCheck> checks) {
    }
}
