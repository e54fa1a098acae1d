package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real clients in {@code tests/clients/mail_client.py} (smtplib, imaplib) and swaks. */
final class MailClients {

    private static final ObjectMapper JSON = new ObjectMapper();

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

    private static JsonNode pythonIn(List<String> prefix, String command, Map<String, Object> args) {
        try {
            Path script = EngineFixture.home().root().resolve("tests/clients/mail_client.py");
            List<String> cmd = new java.util.ArrayList<>(prefix);
            cmd.addAll(List.of("python3", script.toString(), command, JSON.writeValueAsString(args)));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(3, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new AssertionError("mail_client.py " + command + " failed: " + out);
            }
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** swaks's full transcript and exit code. */
    record Swaks(int exitCode, String transcript) {
    }

    static Swaks swaks(List<String> args) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("swaks", "--timeout", "60"));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(3, TimeUnit.MINUTES);
            return new Swaks(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
