package org.hearth.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.hearth.core.runtime.DockerRuntime;
import org.hearth.core.runtime.HearthLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real two-way sync clients from Debian against the mail store, through the edge listener: mbsync
 * (isync) and offlineimap3 each sync a fresh account holding a varied corpus
 * ({@code tests/clients/corpus.py}: 0 B to 10 MB, 8-bit, attachments, folders five deep) into an
 * empty Maildir; then both sides change (mail by SMTP, flags, deletions, a MOVE and a folder
 * renamed on the server; new messages, a new deep folder, flags and deletions locally) and a second
 * sync must leave the two sides identical: the same folders, each message's bytes by SHA-256
 * (line endings normalised to CRLF) and its flags, and every change made on either side present.
 * Each client gets its own user, so each starts from a fresh server mailbox.
 */
@Tag("engine")
class SyncClientsTest {

    private static final String APP = "mail-sync";
    private static final String SMTP = "127.0.0.1";
    private static final int SMTP_PORT = 13525;
    private static final String IMAP = "127.0.0.2";
    private static final int IMAP_PORT = 13143;
    private static final int IMAPS_PORT = 13993;
    private static final String DOMAIN = "sync.hearth.test";
    private static final String PASSWORD = "correct-horse-battery";
    private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(10);
    /** Runs per two-way client, each on a fresh account: the suite runs one, tests/reliability/sync-clients more. */
    private static final int RUNS = Integer.getInteger("sync.runs", 1);
    /**
     * Messages in the corpus. The suite's 300 still hold every kind corpus.py makes (the empty
     * message, one of 10 MB, three of 1-4 MB, a tenth of medium ones, every folder filled) in a
     * third of the time; tests/reliability/sync-clients syncs the full 1,000 (76 MB).
     */
    private static final int MESSAGES = Integer.getInteger("sync.messages", 300);
    private static Path state;
    private static HearthCli hearth;
    private static Path work;
    private static Path corpus;
    private static Path passwordFile;
    private static JsonNode cert;

    @BeforeAll
    static void installMailAppAndMakeTheCorpus() throws IOException {
        EngineFixture.buildPlatformImages(EngineFixture.engine());
        state = EngineFixture.newStateDir("sync");
        hearth = new HearthCli(state);
        Path manifest = state.resolve("mail-sync.yaml");
        // Three accounts of the 1,000-message (76 MB) corpus, in Derby (about twice the bytes) with its logs, outgrow the shipped 1 GiB.
        Files.writeString(manifest, EngineFixture.mailManifest(APP, SMTP_PORT, IMAP_PORT, IMAPS_PORT)
                .replace("size: 1GiB", "size: 4GiB"));
        hearth.ok("up");
        hearth.okWithInput(EngineFixture.PASSPHRASE + "\n", "unlock");
        hearth.ok("app", "install", manifest.toString(), "--timeout", "300");
        hearth.ok("mail", "--app", APP, "domain", "add", DOMAIN);
        work = Files.createDirectories(state.resolve("clients"));
        passwordFile = Files.writeString(work.resolve("password"), PASSWORD + "\n");
        corpus = work.resolve("corpus");
        corpus("make", "--count", String.valueOf(MESSAGES), "--seed", "21", "--out", corpus.toString());
        cert = corpus("cert", "--host", IMAP, "--port", String.valueOf(IMAPS_PORT), "--out", work.resolve("cert.pem").toString());
    }

    @AfterAll
    static void tearDown() {
        hearth.run("app", "remove", APP);
        hearth.run("down");
    }

    @Test
    void mbsyncSyncsTheCorpusBothWaysAndBothSidesEndIdentical() throws IOException {
        for (int run = 1; run <= RUNS; run++) {
            twoWaySyncEndsIdentical(new Mbsync(), run);
        }
    }

    @Test
    void offlineimapSyncsTheCorpusBothWaysAndBothSidesEndIdentical() throws IOException {
        for (int run = 1; run <= RUNS; run++) {
            twoWaySyncEndsIdentical(new OfflineImap(), run);
        }
    }

    /**
     * fetchmail downloads only: every message of every folder, kept on the server, handed to a
     * delivery agent that files it into one Maildir; the downloaded copies must equal the server's.
     * (getmail6 was the other choice; Debian 12's 6.18.11 loses its delivery child's SIGCHLD when the
     * child exits before the handler is set, "waiting child pid N timed out", on this machine too.)
     */
    @Test
    void fetchmailDownloadsEveryMessageOfEveryFolderByteIdentical() throws IOException {
        String user = "fetchmail1@" + DOMAIN;
        hearth.okWithInput(PASSWORD + "\n", "mail", "--app", APP, "user", "add", user);
        Path dir = Files.createDirectories(work.resolve("fetchmail-1"));
        Path local = dir.resolve("mail");
        for (String sub : List.of("cur", "new", "tmp")) {
            Files.createDirectories(local.resolve(sub));
        }
        corpus(imap("upload", user, "maildir++", List.of(), corpus.toString()));
        List<String> folders = new ArrayList<>();
        corpusResult(imap("compare-imap", user, "flat", List.of(), local.toString())).path("folders")
                .forEach(f -> folders.add("\"" + f.asText() + "\""));
        Path rc = dir.resolve("fetchmailrc");
        Files.writeString(rc, String.join("\n",
                "set no bouncemail", "set invisible",
                "poll " + IMAP + " service " + IMAPS_PORT + " protocol IMAP auth password timeout 120",
                "  user \"" + user + "\" there with password \"" + PASSWORD + "\"",
                "  folders " + String.join(", ", folders),
                // pinned: the fingerprint is checked whatever sslcertck says; the chain cannot be (self-signed)
                "  ssl sslfingerprint \"" + cert.path("md5_colons").asText() + "\" no sslcertck",
                "  keep fetchall no rewrite",
                // A Maildir delivery by the shell fetchmail starts anyway: tmp, then new.
                "  mda \"f=$(mktemp " + local.resolve("tmp") + "/m.XXXXXXXX) && cat > $f && mv $f " + local.resolve("new") + "/\"", ""));
        Files.setPosixFilePermissions(rc, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        ClientProcess.Result r = kept(ClientProcess.run(List.of("fetchmail", "-f", rc.toString(), "--nodetach", "-v"), SYNC_TIMEOUT),
                dir.resolve("fetchmail.log"));
        JsonNode compared = corpusResult(imap("compare-imap", user, "flat", List.of(), local.toString()));
        String report = "fetchmail exited " + r.exitCode() + "\n" + tail(r.stdout() + r.stderr()) + "\ncomparison: " + compared.toPrettyString();
        assertThat(r.exitCode()).as(report).isZero();
        assertThat(compared.path("ok").asBoolean()).as(report).isTrue();
        assertThat(compared.path("local").path("messages").asInt()).as(report).isEqualTo(MESSAGES);
    }

    /** A two-way client: its config for one user and local folder, and how it lays out folders. */
    private interface Client {
        String name();

        /** corpus.py's name of the client's local folder layout. */
        String layout();

        /** Headers the client writes into messages for its own bookkeeping. */
        List<String> ignoredHeaders();

        ClientProcess.Result sync(Path dir, String user) throws IOException;
    }

    private void twoWaySyncEndsIdentical(Client client, int run) throws IOException {
        String user = client.name() + run + "@" + DOMAIN;
        hearth.okWithInput(PASSWORD + "\n", "mail", "--app", APP, "user", "add", user);
        Path dir = Files.createDirectories(work.resolve(client.name() + "-" + run));
        Path local = Files.createDirectories(dir.resolve("mail"));
        long started = System.nanoTime();
        JsonNode uploaded = corpus(imap("upload", user, "maildir++", List.of(), corpus.toString()));
        assertThat(uploaded.path("appended").asInt()).isEqualTo(MESSAGES);

        ClientProcess.Result first = kept(client.sync(dir, user), dir.resolve("sync-1.log"));
        assertThat(first.exitCode()).as(client.name() + " first sync:\n" + first.stdout() + first.stderr()).isZero();
        JsonNode afterFirst = compare(client, user, local, List.of());
        assertThat(afterFirst.path("ok").asBoolean()).as(client.name() + " after the first sync: " + afterFirst).isTrue();
        assertThat(afterFirst.path("server").path("messages").asInt()).isEqualTo(MESSAGES);

        Path serverChanges = dir.resolve("server-changes.json");
        Path localChanges = dir.resolve("local-changes.json");
        List<String> changeServer = new ArrayList<>(imap("change-server", user, client.layout(), client.ignoredHeaders(), null));
        changeServer.addAll(List.of("--seed", String.valueOf(100 + run), "--new", "12", "--smtp-host", SMTP,
                "--smtp-port", String.valueOf(SMTP_PORT), "--expect", serverChanges.toString()));
        corpus(changeServer);
        List<String> changeLocal = new ArrayList<>(imap("change-local", user, client.layout(), client.ignoredHeaders(), null));
        changeLocal.addAll(List.of("--seed", String.valueOf(200 + run), "--new", "30", "--forget-renamed",
                "--expect", localChanges.toString(), local.toString()));
        corpus(changeLocal);

        ClientProcess.Result second = kept(client.sync(dir, user), dir.resolve("sync-2.log"));
        JsonNode afterSecond = compare(client, user, local, List.of(serverChanges, localChanges));
        System.out.printf("sync-clients: %s run %d: %d s; second sync exit %d; %d differences%n", client.name(), run,
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), second.exitCode(),
                afterSecond.path("difference_count").asInt());
        String report = client.name() + " second sync exited " + second.exitCode() + " (all of its output: "
                + dir.resolve("sync-2.log") + ")\n" + tail(second.stdout() + second.stderr())
                + "\nthe store's warnings: " + storeWarnings() + "\ncomparison: " + afterSecond.toPrettyString();
        assertThat(second.exitCode()).as(report).isZero();
        assertThat(afterSecond.path("ok").asBoolean()).as(report).isTrue();
    }

    /** What the store warned about (slow commands among them), for a failure's report. */
    private static String storeWarnings() {
        try {
            DockerRuntime runtime = new DockerRuntime(EngineFixture.engine());
            return runtime.containers(Map.of(HearthLabels.INSTANCE, EngineFixture.instanceOf(state),
                            HearthLabels.APP, APP, HearthLabels.ROLE, "imap")).stream()
                    .map(c -> runtime.logsSince(c.id(), Instant.EPOCH).lines()
                            .filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).reduce("", (a, b) -> a + "\n  " + b))
                    .reduce("", String::concat);
        } catch (RuntimeException e) {
            return "(unavailable: " + e.getMessage() + ")";
        }
    }

    private static JsonNode compare(Client client, String user, Path local, List<Path> expectations) {
        List<String> args = new ArrayList<>(imap("compare-imap", user, client.layout(), client.ignoredHeaders(), null));
        for (Path e : expectations) {
            args.addAll(List.of("--expect", e.toString()));
        }
        args.add(local.toString());
        return corpusResult(args);
    }

    /** corpus.py's arguments to reach {@code user}'s mailbox over IMAPS on the published port. */
    private static List<String> imap(String command, String user, String layout, List<String> ignored, String dir) {
        List<String> args = new ArrayList<>(List.of(command, "--host", IMAP, "--port", String.valueOf(IMAPS_PORT), "--tls",
                "--user", user, "--password-file", passwordFile.toString(), "--layout", layout));
        for (String h : ignored) {
            args.addAll(List.of("--ignore-header", h));
        }
        if (dir != null) {
            args.add(dir);
        }
        return args;
    }

    private static JsonNode corpus(String... args) {
        return corpus(List.of(args));
    }

    private static JsonNode corpus(List<String> args) {
        JsonNode r = corpusResult(args);
        assertThat(r.path("ok").asBoolean(true)).as("corpus.py " + args.get(0) + ": " + r).isTrue();
        return r;
    }

    /** corpus.py's JSON, whether or not it found differences (exit 1); anything else fails. */
    private static JsonNode corpusResult(List<String> args) {
        Path script = EngineFixture.home().root().resolve("tests/clients/corpus.py");
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString()));
        cmd.addAll(args);
        ClientProcess.Result r = ClientProcess.run(cmd, SYNC_TIMEOUT);
        String said = "corpus.py " + String.join(" ", args) + "\n" + r.stdout() + r.stderr();
        assertThat(r.exitCode()).as(said).isIn(0, 1);
        // Exit 1 with a JSON result is "differences found"; without one, corpus.py failed (a traceback).
        assertThat(r.stdout().strip()).as(said).startsWith("{");
        return MailClients.json(r.stdout());
    }

    /** The client's whole output, kept beside its Maildir for a failure's reader. */
    private static ClientProcess.Result kept(ClientProcess.Result r, Path log) throws IOException {
        Files.writeString(log, "exit " + r.exitCode() + "\n" + r.stdout() + r.stderr());
        return r;
    }

    /** The lines that say what went wrong: errors and warnings anywhere, then the last 40 of the rest. */
    private static String tail(String output) {
        List<String> lines = output.lines().filter(l -> !l.contains("no UIDVALIDITY") && !l.startsWith("Copy message")).toList();
        List<String> shown = new ArrayList<>(lines.stream().filter(l -> l.matches("(?i).*(error|warning|creat).*")).limit(40).toList());
        shown.add("...");
        shown.addAll(lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        return String.join("\n", shown);
    }

    /**
     * mbsync over IMAPS, trusting exactly the store's certificate, into Maildir++ (the store's
     * delimiter '.' is Maildir++'s too). It pipelines commands and sends small APPENDs as LITERAL+.
     */
    private static final class Mbsync implements Client {
        public String name() {
            return "mbsync";
        }

        public String layout() {
            return "maildir++";
        }

        public List<String> ignoredHeaders() {
            return List.of("X-TUID");
        }

        public ClientProcess.Result sync(Path dir, String user) throws IOException {
            Path rc = dir.resolve("mbsyncrc");
            Files.writeString(rc, String.join("\n",
                    "IMAPAccount hearth", "Host " + IMAP, "Port " + IMAPS_PORT, "User " + user, "Pass " + PASSWORD,
                    "SSLType IMAPS", "CertificateFile " + work.resolve("cert.pem"), "SystemCertificates no", "",
                    "IMAPStore far", "Account hearth", "",
                    "MaildirStore near", "Inbox " + dir.resolve("mail") + "/", "SubFolders Maildir++", "",
                    "Channel sync", "Far :far:", "Near :near:", "Patterns *", "Create Both", "Remove Both",
                    "Expunge Both", "CopyArrivalDate yes", "SyncState *", ""));
            return ClientProcess.run(List.of("mbsync", "-c", rc.toString(), "-a"), SYNC_TIMEOUT);
        }
    }

    /** offlineimap3 over IMAPS, pinning the certificate's SHA-512, one flat Maildir per folder (sep = .). */
    private static final class OfflineImap implements Client {
        public String name() {
            return "offlineimap";
        }

        public String layout() {
            return "named";
        }

        public List<String> ignoredHeaders() {
            return List.of();
        }

        public ClientProcess.Result sync(Path dir, String user) throws IOException {
            Path rc = dir.resolve("offlineimaprc");
            Files.writeString(rc, String.join("\n",
                    "[general]", "accounts = hearth", "metadata = " + dir.resolve("offlineimap-state"), "ui = basic", "",
                    "[Account hearth]", "localrepository = near", "remoterepository = far", "",
                    "[Repository near]", "type = Maildir", "localfolders = " + dir.resolve("mail"), "sep = .", "",
                    "[Repository far]", "type = IMAP", "remotehost = " + IMAP, "remoteport = " + IMAPS_PORT,
                    "remoteuser = " + user, "remotepass = " + PASSWORD, "ssl = yes",
                    "cert_fingerprint = " + cert.path("sha512").asText(), ""));
            return ClientProcess.run(List.of("offlineimap", "-c", rc.toString(), "-o"), SYNC_TIMEOUT);
        }
    }
}
