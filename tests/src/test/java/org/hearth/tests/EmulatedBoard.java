package org.hearth.tests;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An SD card built by {@code ./hearth image sd} as an owner would, with an SSH key made here, booted
 * on an emulated arm64 board by {@code image-build/sd/emulate} (qemu's {@code virt} by default, or
 * the board {@code -Dhearth.sd.board} names), reached by SSH. The board's network is restricted: it
 * reaches only the host ports it is given, as {@link #HOST} (a registry, a catalog), and nothing
 * beyond this machine.
 */
final class EmulatedBoard implements AutoCloseable {

    /** This host as the board reaches it: qemu forwards HOST:PORT to this host's 127.0.0.1:PORT. */
    static final String HOST = "10.0.2.100";
    /** The whole line, so that a link half written to the console file does not count. */
    static final Pattern READY = Pattern.compile("hearth: ready to pair: open (\\S+) \\(or scan hearth-pairing.png");
    private static final Path HOME = EngineFixture.home().root();

    final String machine = System.getProperty("hearth.sd.board", "virt");
    final Path work;
    final Path image;
    private final Path console;
    /** This host's port for the board's SSH, picked at power-on (a port picked long before may be taken since). */
    private int sshPort;
    /** What {@code ./hearth image sd} printed. */
    String built = "";
    private Process qemu;

    private EmulatedBoard(Path work) throws IOException {
        this.work = work;
        this.image = work.resolve("hearth-pi3.img");
        this.console = work.resolve("board/console.log");
    }

    /** Builds the card with {@code ./hearth image sd OPTIONS --out ... --ssh-key ...}; fails with its output. */
    static EmulatedBoard card(List<String> options) throws IOException {
        Path work = Files.createDirectories(HOME.resolve(".state/test-runs/sd-" + UUID.randomUUID().toString().substring(0, 8)));
        EmulatedBoard board = new EmulatedBoard(work);
        try {
            ClientProcess.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "owner@laptop", "-f",
                    work.resolve("owner").toString()), Duration.ofSeconds(30));
            List<String> command = new ArrayList<>(List.of(HOME.resolve("hearth").toString(), "image", "sd",
                    "--out", board.image.toString(), "--ssh-key", work.resolve("owner.pub").toString()));
            command.addAll(options);
            // The launcher's own state folder: its Debian layer cache is the one ./hearth image sd keeps.
            ClientProcess.Result built = ClientProcess.run(command, Duration.ofMinutes(75));
            System.out.println("hearth image sd:\n" + built.stdout() + built.stderr());
            assertThat(built.exitCode()).as("hearth image sd; output:\n" + built.stdout() + built.stderr()).isZero();
            board.built = built.stdout();
            return board;
        } catch (RuntimeException | Error failed) {
            board.close();
            throw failed;
        }
    }

    /**
     * Powers the board on (a card four times the image: the first boot grows the root and makes the
     * data partition), reaching this host's {@code reaches} ports and opening its own {@code opens}
     * (board port by host port) on this host's loopback.
     */
    void powerOn(List<Integer> reaches, Map<Integer, Integer> opens) throws IOException {
        sshPort = freePort();
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", HOME.resolve("image-build/sd/emulate").toString(), machine,
                image.toString(), work.resolve("board").toString(), String.valueOf(sshPort)))
                .redirectErrorStream(true).redirectOutput(work.resolve("qemu.log").toFile());
        pb.environment().put("BOARD_REACHES", reaches.stream().map(String::valueOf).collect(Collectors.joining(" ")));
        pb.environment().put("BOARD_OPENS", opens.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue())
                .collect(Collectors.joining(" ")));
        qemu = pb.start();
    }

    /** Waits until "ready to pair" appears once more than {@code before} times: a boot's end. */
    Duration awaitReady(long before, Duration limit) throws Exception {
        Instant since = Instant.now();
        Await.until(limit, this::consoleTail, () -> {
            if (!qemu.isAlive()) {
                throw new AssertionError("the board stopped: " + Files.readString(work.resolve("qemu.log")) + consoleTail());
            }
            return readyLinks().size() > before ? Optional.of(true) : Optional.empty();
        });
        return Duration.between(since, Instant.now());
    }

    /** The links of every "ready to pair" line the console showed so far, in order. */
    List<String> readyLinks() throws IOException {
        return READY.matcher(consoleText()).results().map(m -> m.group(1)).toList();
    }

    /** Reboots the board and waits for "ready to pair" again; the time from the command. */
    Duration reboot(Duration limit) throws Exception {
        long before = readyLinks().size();
        // The connection ends with the board's shutdown: its exit code says nothing, nor a hang as it goes.
        try {
            ClientProcess.run(sshCommand("systemctl reboot"), Duration.ofMinutes(1));
        } catch (AssertionError hungAsTheBoardWentDown) {
            System.out.println("sd card: ssh systemctl reboot: " + hungAsTheBoardWentDown.getMessage());
        }
        return awaitReady(before, limit);
    }

    /**
     * Sets the board's clock from this host's when it is a minute or more off: the restricted network
     * has no NTP server, and a board without a clock (raspi3b) boots at the time it last shut down.
     */
    void setClock() {
        long now = Instant.now().getEpochSecond();
        ssh("d=$(( $(date +%s) - " + now + " )); [ ${d#-} -lt 60 ] || date -s @" + now);
    }

    /** What the board printed on its serial console so far (Latin-1: a kernel's bytes are not all UTF-8). */
    String consoleText() throws IOException {
        return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
    }

    private String consoleTail() {
        try {
            List<String> lines = Files.readAllLines(console, StandardCharsets.ISO_8859_1);
            return "\n...\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no console output: " + e.getMessage() + ")";
        }
    }

    /** A file of the image's FAT partition, read with mtools at the partition's offset (no mount needed). */
    String bootFile(String name) throws IOException {
        Path out = work.resolve("boot-" + name);
        ClientProcess.Result r = ClientProcess.run(List.of("env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-n", "-i",
                image + "@@1M", "::/" + name, out.toString()), Duration.ofMinutes(1));
        assertThat(r.exitCode()).as("mcopy ::/" + name + ": " + r.stderr()).isZero();
        return Files.readString(out);
    }

    List<String> sshCommand(String command) {
        return List.of("ssh", "-p", String.valueOf(sshPort), "-i", work.resolve("owner").toString(), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "root@127.0.0.1", command);
    }

    /** SSH without the card's key, offering passwords only: what anyone on the LAN could try. */
    ClientProcess.Result sshWithPassword() {
        return ClientProcess.run(List.of("ssh", "-p", String.valueOf(sshPort), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive", "root@127.0.0.1", "true"), Duration.ofMinutes(1));
    }

    /** Runs {@code command} on the board as root; fails unless it exits 0. */
    ClientProcess.Result ssh(String command) {
        return ssh(command, Duration.ofMinutes(3));
    }

    ClientProcess.Result ssh(String command, Duration limit) {
        ClientProcess.Result r = ClientProcess.run(sshCommand(command), limit);
        assertThat(r.exitCode()).as("on the board: " + command + "\n" + r.stdout() + r.stderr()).isZero();
        return r;
    }

    /** Runs {@code command} on the board with {@code input} on its standard input (passwords: never in a command line). */
    String sshWithInput(String command, String input, Duration limit) throws IOException, InterruptedException {
        Path in = Files.createTempFile(work, "ssh", ".in");
        Path out = Files.createTempFile(work, "ssh", ".out");
        try {
            Files.writeString(in, input);
            Process p = new ProcessBuilder(sshCommand(command)).redirectErrorStream(true)
                    .redirectInput(in.toFile()).redirectOutput(out.toFile()).start();
            if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("on the board: " + command + " did not finish in " + limit.toSeconds() + " s:\n"
                        + Files.readString(out));
            }
            assertThat(p.exitValue()).as("on the board: " + command + "\n" + Files.readString(out)).isZero();
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(in);
        }
    }

    /** A command's output as bytes (a file copied off the board). */
    byte[] sshBytes(String command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(work, "ssh", ".out");
        Process p = new ProcessBuilder(sshCommand(command)).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("on the board: " + command + " did not finish in 3 minutes");
        }
        assertThat(p.exitValue()).as("on the board: " + command).isZero();
        return Files.readAllBytes(out);
    }

    /** Powers the board off and removes the card and its work folder. */
    @Override
    public void close() {
        if (qemu != null) {
            qemu.destroy();
            try {
                if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                qemu.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        ClientProcess.run(List.of("rm", "-rf", work.toString()), Duration.ofMinutes(1));
    }

    static int freePort() throws IOException {
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return free.getLocalPort();
        }
    }
}
