package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.BoxName;
import org.hearth.core.manifest.ManifestException;
import org.hearth.core.manifest.ManifestReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Desired state: the manifests of installed apps, one folder each under {@code state/apps}.
 * Survives supervisor restarts and crashes; the supervisor only ever reads it.
 */
public final class InstalledApps {

    public static final String MANIFEST_FILE = "manifest.yaml";
    /** Touched after every change, so a watcher of this one folder sees changes inside app folders too. */
    static final String CHANGED_FILE = ".changed";

    private final Path dir;
    /**
     * Each manifest as last read, by file: the pass lists the apps every second, and reading and
     * validating a manifest costs ≈ 6 ms of CPU here (ten times that on a Raspberry Pi 3).
     */
    private final Map<Path, Read> read = new ConcurrentHashMap<>();

    /** A manifest file's reading, and the attributes that tell, without reading it again, that it is unchanged. */
    private record Read(FileTime modified, long size, Object fileKey, Installed installed) {
        boolean of(BasicFileAttributes a) {
            return modified.equals(a.lastModifiedTime()) && size == a.size() && java.util.Objects.equals(fileKey, a.fileKey());
        }
    }

    public InstalledApps(Path dir) {
        this.dir = dir;
    }

    /** An installed app, or the reason its stored manifest no longer reads. */
    public record Installed(String app, Path file, Optional<AppManifest> manifest, Optional<String> problem) {
    }

    public List<Installed> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Installed> apps = new ArrayList<>();
        try (Stream<Path> folders = Files.list(dir)) {
            for (Path folder : folders.sorted().toList()) {
                Path file = folder.resolve(MANIFEST_FILE);
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                String app = folder.getFileName().toString();
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                Read known = read.get(file);
                if (known != null && known.of(attributes)) {
                    apps.add(known.installed());
                    continue;
                }
                Installed installed;
                try {
                    installed = new Installed(app, file, Optional.of(ManifestReader.read(file)), Optional.empty());
                } catch (ManifestException e) {
                    installed = new Installed(app, file, Optional.empty(), Optional.of(e.getMessage()));
                }
                read.put(file, new Read(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), installed));
                apps.add(installed);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list installed apps in " + dir, e);
        }
        read.keySet().retainAll(apps.stream().map(Installed::file).toList());
        return apps;
    }

    /**
     * The certificates the installed apps' containers want on a box named {@code domain}: each by
     * the host that names it (its first), with all the host names it must carry.
     */
    public Map<String, List<String>> certificates(String domain) {
        Map<String, List<String>> certificates = new TreeMap<>();
        for (Installed installed : list()) {
            installed.manifest().ifPresent(m -> m.containers().values().stream().filter(c -> !c.certificate().isEmpty())
                    .forEach(c -> {
                        List<String> names = c.certificate().stream().map(host -> BoxName.expand(host, domain)).toList();
                        certificates.put(names.get(0), names);
                    }));
        }
        return certificates;
    }

    /** The host names the public reaches (on a container with a public port): they carry the box's address. */
    public Set<String> publicHosts(String domain) {
        Set<String> hosts = new TreeSet<>();
        for (Installed installed : list()) {
            installed.manifest().ifPresent(m -> m.containers().values().stream()
                    .filter(c -> c.ports().stream().anyMatch(p -> p.exposure() == AppManifest.Exposure.PUBLIC))
                    .forEach(c -> c.certificate().forEach(host -> hosts.add(BoxName.expand(host, domain)))));
        }
        return hosts;
    }

    /** Records {@code text} as the app's desired manifest, replacing any earlier one atomically. */
    void install(String app, String text) {
        try {
            Path folder = Files.createDirectories(dir.resolve(app));
            Path tmp = Files.createTempFile(folder, ".manifest", ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, folder.resolve(MANIFEST_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            touchChanged();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record app " + app + " in " + dir, e);
        }
    }

    public Path dir() {
        return dir;
    }

    private void touchChanged() throws IOException {
        Files.writeString(dir.resolve(CHANGED_FILE), Long.toString(System.nanoTime()));
    }

    /** Forgets the app; returns false if it was not installed. */
    boolean remove(String app) {
        Path folder = dir.resolve(app);
        try {
            boolean existed = Files.deleteIfExists(folder.resolve(MANIFEST_FILE));
            if (Files.isDirectory(folder)) {
                try (Stream<Path> rest = Files.list(folder)) {
                    for (Path p : rest.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(folder);
            }
            touchChanged();
            return existed;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove app " + app + " from " + dir, e);
        }
    }
}
