package org.hearth.tests;

import org.hearth.core.HearthHome;
import org.hearth.core.image.ImageBuilder;
import org.hearth.core.image.ImagePlatform;
import org.hearth.core.image.ImageRecipe;
import org.hearth.core.image.ImageRecipes;
import org.hearth.core.runtime.ContainerRuntime;
import org.hearth.core.runtime.ContainerSpec;
import org.hearth.core.runtime.Engine;
import org.hearth.core.runtime.HearthLabels;
import org.hearth.tls.TlsIdentity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real engine for tests: Hearth's images (built, or found cached), test images from
 * {@code tests/images}, and a label on everything tests create so scripts/test can remove it.
 */
final class EngineFixture {

    static final String TEST_RUN = "tests";
    /** The storage passphrase of every test instance (the first unlock sets it). */
    static final String PASSPHRASE = "test passphrase for encrypted volumes";
    /**
     * The tag of a class or test whose subject the engine decides (hardening, networks and the
     * firewall, the isolation promise, image loads, containers killed, stopped or replaced, egress):
     * scripts/test runs these again on Podman. The rest runs on Docker only.
     */
    static final String BOTH_ENGINES = "both-engines";

    private EngineFixture() {
    }

    static HearthHome home() {
        return HearthHome.fromSystemProperty();
    }

    static Engine engine() {
        Engine engine = Engine.connect();
        engine.version();
        return engine;
    }

    /** The engines (by DOCKER_HOST) this JVM has built Hearth's images on: a test JVM runs several classes. */
    private static final Set<String> PLATFORM_IMAGES_BUILT = ConcurrentHashMap.newKeySet();

    /**
     * Builds Hearth's own images, or finds them cached. Once per engine in a test JVM: their inputs
     * do not change during a run, and no test removes them, so a later class need not hash them again.
     */
    static void buildPlatformImages(Engine engine) {
        String endpoint = Objects.requireNonNullElse(System.getenv("DOCKER_HOST"), "default");
        if (!PLATFORM_IMAGES_BUILT.contains(endpoint)) {
            rebuildPlatformImages(engine);
            PLATFORM_IMAGES_BUILT.add(endpoint);
        }
    }

    /** Builds Hearth's own images, or finds them cached, whatever an earlier class did. */
    static List<ImageBuilder.Result> rebuildPlatformImages(Engine engine) {
        HearthHome home = home();
        return new ImageBuilder(engine, home, line -> System.out.println("images: " + line))
                .build(ImageRecipes.loadAll(home.imageRecipes()));
    }

    /** Builds Hearth's images and the named test images from {@code tests/images}, labelled as test objects. */
    static List<ImageBuilder.Result> buildTestImages(Engine engine, String... names) {
        buildPlatformImages(engine);
        return buildTestImages(engine, ImagePlatform.host(), names);
    }

    /**
     * Hearth's images for {@code platform} (another architecture's tagged with its name, kept like
     * this machine's: they are Hearth's own) and the named test images on them, labelled as test objects.
     */
    static List<ImageBuilder.Result> buildTestImages(Engine engine, ImagePlatform platform, String... names) {
        HearthHome home = home();
        if (platform.foreign()) {
            new ImageBuilder(engine, home, line -> System.out.println("images: " + line), Map.of(), platform)
                    .build(ImageRecipes.loadAll(home.imageRecipes()));
        }
        List<ImageRecipe> tests = Arrays.stream(names)
                .map(name -> ImageRecipes.load(home.root().resolve("tests/images").resolve(name)
                        .resolve(ImageRecipes.RECIPE_FILE)))
                .toList();
        List<ImageRecipe> hearths = ImageRecipes.loadAll(home.imageRecipes());
        return new ImageBuilder(engine, home, line -> System.out.println("test images: " + line),
                Map.of(HearthLabels.TEST, TEST_RUN), platform).build(ImageRecipes.inBuildOrder(tests, hearths));
    }

    /**
     * A fresh state folder for a Hearth instance a test starts. It lives under
     * {@code .state/test-runs}, where scripts/test finds it to stop its supervisor and remove its
     * engine objects even if the test JVM died.
     */
    static Path newStateDir(String name) throws IOException {
        Path runs = Files.createDirectories(home().state().resolve("test-runs"));
        return Files.createTempDirectory(runs, name + "-");
    }

    /**
     * A self-signed certificate for {@code host} and its key, as PEM files in {@code dir} (for a
     * server of the simulated internet; trust it by the certificate itself), from Hearth's TLS code.
     */
    static Path[] certificate(Path dir, String host) throws Exception {
        Path p12 = Files.createDirectories(dir).resolve("identity.p12");
        TlsIdentity.stored(p12, host);
        char[] password = Files.readString(p12.resolveSibling("identity.p12.password")).strip().toCharArray();
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = Files.newInputStream(p12)) {
            ks.load(in, password);
        }
        String alias = ks.aliases().nextElement();
        var mime = java.util.Base64.getMimeEncoder(64, new byte[]{'\n'});
        Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n"
                + mime.encodeToString(ks.getCertificate(alias).getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + mime.encodeToString(ks.getKey(alias, password).getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        // Postfix reads them as its own user, through folders it may walk.
        for (Path p : List.of(dir, cert, key)) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(
                    Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
        return new Path[]{cert, key};
    }

    /** The {@code org.hearth.instance} label of the Hearth instance keeping its state in {@code state}. */
    static String instanceOf(Path state) {
        return home().withState(state).instanceId();
    }

    /**
     * Labels that pick one instance's containers of an app's role: another instance on this engine
     * (the demo, or what a killed run left) may run an app of the same name.
     */
    static Map<String, String> roleLabels(Path state, String app, String role) {
        return Map.of(HearthLabels.INSTANCE, instanceOf(state), HearthLabels.APP, app, HearthLabels.ROLE, role);
    }

    /**
     * The shipped mail manifest as another app on its own host ports, so a test instance never meets
     * the demo's. Each replaced line must exist: a changed manifest fails here, not in a later check.
     */
    static String mailManifest(String app, int smtpPort, int imapPort, int imapsPort) throws IOException {
        String manifest = Files.readString(home().root().resolve("manifests/mail/app.yaml"));
        for (String line : List.of("app: mail\n", "listen: 2525", "listen: 1143", "listen: 1993", "listen: 1587", "listen: 1465", "listen: 1443",
                "listen: 8443")) {
            if (!manifest.contains(line)) {
                throw new AssertionError("manifests/mail/app.yaml no longer has \"" + line.strip() + "\"");
            }
        }
        return manifest.replace("app: mail\n", "app: " + app + "\n")
                .replace("listen: 2525", "listen: " + smtpPort)
                .replace("listen: 1143", "listen: " + imapPort)
                .replace("listen: 1993", "listen: " + imapsPort)
                // Submission on ports derived from IMAP's, so test instances never meet each other's or the demo's.
                .replace("listen: 1587", "listen: " + submissionPort(imapPort))
                .replace("listen: 1465", "listen: " + (submissionPort(imapPort) + 1))
                .replace("listen: 1443", "listen: " + webmailPort(imapPort))
                .replace("listen: 8443", "listen: " + wellKnownPort(imapPort));
    }

    /** The host port of the public HTTPS documents (MTA-STS, autoconfig) in a test instance whose IMAP listens on {@code imapPort}. */
    static int wellKnownPort(int imapPort) {
        return imapPort + 500;
    }

    /** The host port of webmail (HTTPS) in a test instance whose IMAP listens on {@code imapPort}. */
    static int webmailPort(int imapPort) {
        return imapPort + 300;
    }

    /** The host port of submission (STARTTLS) in a test instance whose IMAP listens on {@code imapPort}; implicit TLS is the next. */
    static int submissionPort(int imapPort) {
        return imapPort + 400;
    }

    /** Adds {@code address}'s domain and the mailbox itself to a mail app. */
    static void addMailbox(HearthCli hearth, String app, String address, String password) {
        hearth.ok("mail", "--app", app, "domain", "add", address.substring(address.indexOf('@') + 1));
        hearth.okWithInput(password + "\n", "mail", "--app", app, "user", "add", address);
    }

    /** Runs the probe (tests/images/probe) inside a running container and returns what it printed. */
    static String probe(ContainerRuntime runtime, String containerId, String args) {
        List<String> cmd = new ArrayList<>(List.of("java", "-cp", "/app", "org.hearth.tests.probe.Probe"));
        cmd.addAll(List.of(args.split(" ")));
        return runtime.exec(containerId, cmd, Duration.ofSeconds(30)).output().stdout().strip();
    }

    /** A spec with Hearth's defaults and the test label. */
    static ContainerSpec spec(String image, String... command) {
        return ContainerSpec.of(image, command).withLabel(HearthLabels.TEST, TEST_RUN);
    }
}
