package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the real clients in {@code tests/clients/mail_client.py} (smtplib, imaplib) and swaks. */
final class MailClients {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any client's own socket timeouts (60 s per command), so theirs report first. */
    static final Duration CLIENT_TIMEOUT = Duration.ofMinutes(3);

    private MailClients() {
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    static JsonNode python(String command, Map<String, Object> args) {
        return pythonIn(List.of(), command, args);
    }

    /** The client run inside network namespace {@code netns}: a phone or a host on the simulated internet. */
    static JsonNode pythonIn(String netns, String command, Map<String, Object> args) {
        return pythonIn(List.of("ip", "netns", "exec", netns), command, args);
    }

    /** The client run in a container's network namespace (process {@code pid}): what that container could reach. */
    static JsonNode pythonInNetworkOf(long pid, String command, Map<String, Object> args) {
        return pythonIn(List.of("nsenter", "-t", String.valueOf(pid), "-n"), command, args);
    }

    private static JsonNode pythonIn(List<String> prefix, String command, Map<String, Object> args) {
        return finishPython(startPythonIn(prefix, command, args), command);
    }

    /** Starts the client without waiting: for a client the test talks to while it runs (IDLE). */
    static ClientProcess startPython(String command, Map<String, Object> args) {
        return startPythonIn(List.of(), command, args);
    }

    /** The client's JSON once it ends; fails with its output if it exits non-zero or runs past {@link #CLIENT_TIMEOUT}. */
    static JsonNode finishPython(ClientProcess client, String command) {
        ClientProcess.Result r = client.finish(CLIENT_TIMEOUT);
        if (!r.stderr().isEmpty()) {
            System.err.print(r.stderr());
        }
        if (r.exitCode() != 0) {
            throw new AssertionError("mail_client.py " + command + " exited " + r.exitCode() + "\nstdout: " + r.stdout()
                    + "\nstderr: " + r.stderr());
        }
        return json(r.stdout());
    }

    private static ClientProcess startPythonIn(List<String> prefix, String command, Map<String, Object> args) {
        Path script = EngineFixture.home().root().resolve("tests/clients/mail_client.py");
        List<String> cmd = new ArrayList<>(prefix);
        try {
            cmd.addAll(List.of("python3", script.toString(), command, JSON.writeValueAsString(args)));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return ClientProcess.start(cmd);
    }

    /** swaks's full transcript and exit code. */
    record Swaks(int exitCode, String transcript) {
    }

    static Swaks swaks(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of("swaks", "--timeout", "60"));
        cmd.addAll(args);
        ClientProcess.Result r = ClientProcess.run(cmd, CLIENT_TIMEOUT);
        return new Swaks(r.exitCode(), r.stdout() + r.stderr());
    }
}
