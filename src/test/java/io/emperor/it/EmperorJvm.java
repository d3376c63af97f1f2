package io.emperor.it;

import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The JVM the tests' emperors and clients run on, as the packaged launcher runs them
 * (packaging/emperor; docs/performance.md, "Weight"): its small-footprint flags, and a class-data
 * archive per kind of command ({@code run}, or a client command), trained once per test JVM the way
 * packaging/emperor-archive trains the package's (an {@code emperor run} until {@code ready:}, an
 * {@code emperor status} against it, then SIGTERM; each JVM writes its archive at exit).
 *
 * <p>A dynamic archive needs a class path of jars: the build's class directories (target/classes,
 * target/test-classes) are copied into jars beside them, in the build directory, where the emperor
 * finds its exec helper and libraries as it does next to target/classes. The content is the
 * directories' at the start of this test JVM, so the emperors run the classes under test. When the
 * archives cannot be made (said once on stderr), the emperors start without them, on the same class
 * path; an archive the JVM finds unusable is ignored silently ({@code -Xlog:cds*=off}), as the
 * launcher does.
 */
final class EmperorJvm {
    /**
     * The packaged launcher's flags: the serial collector, C1 only, 256 KiB thread stacks, an 8 to
     * 64 MiB heap, no perf-data file; out of memory, the JVM exits.
     */
    static final List<String> FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError",
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k", "-Xms8m", "-Xmx64m", "-XX:-UsePerfData");
    static final String MAIN = "io.emperor.cli.Main";

    /** {@code run} or a client command. */
    enum Kind { RUN, CLIENT }

    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static Prepared prepared;

    private record Prepared(String classPath, Path runArchive, Path clientArchive) {}

    private EmperorJvm() {}

    /** {@code java FLAGS [archive] -cp CLASSPATH io.emperor.cli.Main}. */
    static List<String> command(Kind kind) {
        Prepared p = prepared();
        List<String> cmd = new ArrayList<>();
        cmd.add(JAVA);
        cmd.addAll(FLAGS);
        Path archive = kind == Kind.RUN ? p.runArchive() : p.clientArchive();
        if (archive != null) {
            cmd.add("-XX:SharedArchiveFile=" + archive);
            cmd.add("-Xlog:cds*=off");
            if (Runtime.version().feature() >= 25) {
                cmd.add("-Xlog:aot*=off"); // as the launcher does on 25: its archive warnings are aot's
            }
        }
        cmd.addAll(List.of("-cp", p.classPath(), MAIN));
        return cmd;
    }

    /** The same with the classes at {@code classPath} instead, and no archive (it holds another class path). */
    static List<String> command(String classPath) {
        List<String> cmd = new ArrayList<>();
        cmd.add(JAVA);
        cmd.addAll(FLAGS);
        cmd.addAll(List.of("-cp", classPath, MAIN));
        return cmd;
    }

    private static synchronized Prepared prepared() {
        if (prepared == null) {
            prepared = prepare();
        }
        return prepared;
    }

    private static Prepared prepare() {
        String classPath = System.getProperty("java.class.path");
        try {
            List<String> entries = new ArrayList<>();
            for (String entry : classPath.split(File.pathSeparator)) {
                Path dir = Path.of(entry);
                entries.add(Files.isDirectory(dir) ? jarOf(dir).toString() : entry);
            }
            classPath = String.join(File.pathSeparator, entries);
            Path build = Path.of(System.getProperty("emperor.buildDir", "target")).toAbsolutePath();
            Path run = build.resolve("emperor-it-run.jsa");
            Path client = build.resolve("emperor-it-client.jsa");
            train(classPath, run, client);
            return new Prepared(classPath, run, client);
        } catch (IOException | RuntimeException | AssertionError e) {
            System.err.println("EmperorJvm: the emperors start without a class-data archive: " + e);
            return new Prepared(classPath, null, null);
        }
    }

    /** {@code DIR.getParent()/emperor-it-NAME.jar}: the directory's files, written anew (a rename). */
    private static Path jarOf(Path dir) throws IOException {
        Path jar = dir.getParent().resolve("emperor-it-" + dir.getFileName() + ".jar");
        Path tmp = dir.getParent().resolve(jar.getFileName() + ".new");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(tmp)); Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted().toList()) {
                String name = dir.relativize(f).toString().replace(File.separatorChar, '/');
                if (name.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(f)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(f, (OutputStream) out);
                }
                out.closeEntry();
            }
        }
        return Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** One training run of each kind, as packaging/emperor-archive does; the archives replace the last ones. */
    private static void train(String classPath, Path run, Path client) throws IOException {
        Path dir = Files.createTempDirectory("emperor-it-archive");
        Path vassals = Files.createDirectories(dir.resolve("vassals"));
        // Refused for want of exec, never started, but listed by status with its problem.
        Files.writeString(vassals.resolve("training.ini"), "[vassal]\n; no exec\n");
        Path log = dir.resolve("emperor.log");
        Path socket = dir.resolve("control.sock");
        Path runNew = Path.of(run + ".new");
        Path clientNew = Path.of(client + ".new");
        Files.deleteIfExists(runNew);
        Files.deleteIfExists(clientNew);
        List<String> emperor = trainee(classPath, runNew);
        emperor.addAll(List.of("run", "--vassals", vassals.toString(), "--control", socket.toString(), "--log",
                log.toString()));
        Process p = start(emperor, dir.resolve("run.out"));
        try {
            Poll.until("the training emperor's ready line", Poll.WAIT,
                    () -> Files.exists(log) && Workspace.read(log).contains("] ready: "));
            List<String> status = trainee(classPath, clientNew);
            status.addAll(List.of("status", "--socket", socket.toString()));
            Process s = start(status, dir.resolve("client.out"));
            if (!s.waitFor(60, TimeUnit.SECONDS)) {
                s.destroyForcibly();
                throw new IOException("the training status did not end within 60 s");
            }
            p.destroy(); // SIGTERM: the emperor stops, its JVM writes the archive
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("the training emperor did not stop cleanly: " + Workspace.read(dir.resolve("run.out")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            p.destroyForcibly();
        }
        String said = Workspace.read(dir.resolve("run.out")) + Workspace.read(dir.resolve("client.out"));
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
        for (Path a : List.of(runNew, clientNew)) {
            if (!Files.isRegularFile(a) || Files.size(a) == 0) {
                throw new IOException("no archive " + a + ": " + said);
            }
        }
        Files.move(runNew, run, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(clientNew, client, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static List<String> trainee(String classPath, Path archive) {
        List<String> cmd = new ArrayList<>();
        cmd.add(JAVA);
        cmd.addAll(FLAGS);
        cmd.add("-XX:ArchiveClassesAtExit=" + archive);
        cmd.addAll(List.of("-cp", classPath, MAIN));
        return cmd;
    }

    private static Process start(List<String> cmd, Path out) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        for (String v : List.of("NOTIFY_SOCKET", "EMPEROR_CONTROL", "WATCHDOG_USEC", "WATCHDOG_PID")) {
            pb.environment().remove(v);
        }
        return pb.start();
    }
}
