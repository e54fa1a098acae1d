package org.hearth.core.cli;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Passwords and passphrases: typed at a terminal prompt, else read a line at a time from standard input; never arguments. */
final class Secrets {

    /** One reader for the whole command, so a second secret is the second line of standard input. */
    private static BufferedReader stdin;

    private Secrets() {
    }

    /**
     * A secret: prompted (twice when {@code confirm}) at a terminal, else the next line of standard
     * input; empty when there is none. {@code noun} names it in the mismatch error.
     */
    static char[] read(String prompt, boolean confirm, String noun) throws IOException {
        Console console = System.console();
        if (console != null) {
            char[] first = console.readPassword("%s: ", prompt);
            if (confirm) {
                char[] again = console.readPassword("again: ");
                if (first == null || !Arrays.equals(first, again)) {
                    throw new IllegalArgumentException("the " + noun + "s differ");
                }
            }
            return first == null ? new char[0] : first;
        }
        if (stdin == null) {
            stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        String line = stdin.readLine();
        return line == null ? new char[0] : line.toCharArray();
    }
}
