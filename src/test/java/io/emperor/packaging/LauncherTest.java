package io.emperor.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * packaging/emperor, the /usr/bin/emperor launcher, run against fake Java homes whose bin/java
 * prints its pid and arguments: which runtime it picks, the flags it passes, and that it execs.
 */
class LauncherTest {
    static final Path LAUNCHER = Path.of("packaging", "emperor");

    @TempDir
    Path tmp;

    /** A Java home whose release file says {@code version} and whose java reports itself. */
    Path fakeJavaHome(String name, String version) throws IOException {
        Path home = tmp.resolve(name);
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path java = home.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho \"pid=$$\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    record Run(long pid, int exit, String stdout, String stderr) {
        List<String> args() {
            return stdout.lines().filter(l -> l.startsWith("arg=")).map(l -> l.substring(4)).toList();
        }
    }

    Run run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/bin/sh", LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("EMPEROR_JAVA_OPTS");
        pb.environment().putAll(env);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the launcher finished");
        return new Run(p.pid(), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void javaHomeWinsAndGetsTheServiceFlagsAndTheArgumentsLast() throws Exception {
        Path home = fakeJavaHome("jdk21", "21.0.4");
        Run r = run(Map.of("JAVA_HOME", home.toString(), "EMPEROR_JAVA_OPTS", "-Xmx128m"),
                "run", "--config", "/etc/emperor/emperor.ini");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(List.of("-XX:+ExitOnOutOfMemoryError", "-XX:+UnlockDiagnosticVMOptions", "-XX:AsyncDeflationInterval=10000",
                "-XX:GuaranteedSafepointInterval=0", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xss256k", "-Xms8m", "-Xmx64m", "-XX:-UsePerfData", "-XX:+StartAttachListener",
                "-Demperor.helper=/usr/lib/emperor/emperor-exec", "-Djffi.boot.library.path=/usr/lib/emperor/jni",
                "-Xmx128m", "-jar", "/usr/share/emperor/emperor.jar",
                "run", "--config", "/etc/emperor/emperor.ini"), r.args());
    }

    /**
     * Each version-dependent flag only where the JVM knows it (an unknown -XX flag stops the JVM):
     * native access from 22, the wake-up flags from 17 to 25.
     */
    @Test
    void versionDependentFlagsGoOnlyToTheJvmsThatKnowThem() throws Exception {
        String access = "--enable-native-access=ALL-UNNAMED";
        String deflation = "-XX:AsyncDeflationInterval=10000";
        String cleanup = "-XX:ServiceThreadCleanupInterval=10000";
        record Case(String version, boolean access, boolean deflation, boolean cleanup) {}
        for (Case c : List.of(new Case("17.0.2", false, true, false), new Case("17.0.15", false, true, false),
                new Case("21.0.4", false, true, false), new Case("22", true, true, false),
                new Case("23", true, true, true), new Case("25.0.1", true, true, true),
                new Case("26", true, false, false))) {
            Path home = fakeJavaHome("jdk-" + c.version(), c.version());
            List<String> args = run(Map.of("JAVA_HOME", home.toString()), "--version").args();
            assertEquals(c.access(), args.contains(access), c + ": " + args);
            assertEquals(c.deflation(), args.contains(deflation), c + ": " + args);
            assertEquals(c.cleanup(), args.contains(cleanup), c + ": " + args);
            if (c.cleanup()) {
                // a diagnostic flag: it must come after the unlock, or the JVM refuses to start
                assertTrue(args.indexOf("-XX:+UnlockDiagnosticVMOptions") < args.indexOf(cleanup), c + ": " + args);
            }
            assertEquals(c.deflation(), args.contains("-XX:+UnlockDiagnosticVMOptions"), c + ": " + args);
        }
    }

    /**
     * Every real JVM of this machine (17, 25 …) starts with the flags the launcher gives it: an
     * -XX flag a JVM does not know, or a diagnostic one before the unlock, stops it at once.
     * {@code -version} in EMPEROR_JAVA_OPTS makes the JVM print its version and exit before the jar.
     */
    @Test
    void everyInstalledJvmStartsWithTheLaunchersFlags() throws Exception {
        List<Path> homes = new java.util.ArrayList<>();
        try (var dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            dirs.filter(h -> Files.isExecutable(h.resolve("bin/java")) && Files.isRegularFile(h.resolve("release"))
                    && !Files.isSymbolicLink(h)).forEach(homes::add);
        } catch (java.nio.file.NoSuchFileException e) {
            // no /usr/lib/jvm: nothing to try
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(homes.isEmpty(), "no JVM under /usr/lib/jvm");
        // A jar with only a manifest: the java launcher opens the jar before it reads -version.
        Path build = Files.createDirectories(tmp.resolve("build"));
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(build.resolve("emperor.jar")), manifest)) {
            // nothing more
        }
        for (Path home : homes) {
            Run r = run(Map.of("JAVA_HOME", home.toString(), "EMPEROR_BUILD_DIR", build.toString(),
                    "EMPEROR_JAVA_OPTS", "-version"), "--version");
            assertEquals(0, r.exit(), home + ": " + r.stderr());
            assertTrue(r.stderr().contains("version \""), home + ": " + r.stderr());
        }
    }

    /** docs/install.md names every JVM flag the launcher passes, on each kind of JVM. */
    @Test
    void theInstallGuideNamesEveryFlagTheLauncherPasses() throws Exception {
        String guide = Files.readString(Path.of("docs", "install.md"));
        for (String version : List.of("17.0.15", "21.0.4", "25.0.1")) {
            Path home = fakeJavaHome("jdk-" + version, version);
            List<String> args = run(Map.of("JAVA_HOME", home.toString()), "--version").args();
            for (String flag : args.subList(0, args.indexOf("-cp"))) {
                String named = flag.startsWith("-Demperor.helper=") ? "-Demperor.helper="
                        : flag.startsWith("-Djffi.boot.library.path=") ? "-Djffi.boot.library.path=" : flag;
                assertTrue(guide.contains(named), version + ": install.md does not name " + flag);
            }
        }
    }

    /** EMPEROR_BUILD_DIR runs a build (bench/weight.py does) instead of the installed files. */
    @Test
    void aBuildDirectoryReplacesTheInstalledJarAndHelper() throws Exception {
        Path home = fakeJavaHome("jdk17", "17.0.15");
        List<String> args = run(Map.of("JAVA_HOME", home.toString(), "EMPEROR_BUILD_DIR", "/src/target"), "--version").args();
        assertTrue(args.contains("-Demperor.helper=/src/target/emperor-exec"), args.toString());
        assertTrue(args.contains("-Djffi.boot.library.path=/src/target/jni"), args.toString());
        assertEquals(List.of("-cp", "/src/target/emperor.jar", "io.emperor.cli.Main", "--version"),
                args.subList(args.size() - 4, args.size()));
    }

    /**
     * `emperor run` runs the jar (-jar: what ps shows and what a client looks for when it finds no
     * socket, ClientErrors); a client command names the main class, so that the JVM need not read
     * the jar's central directory before main (docs/performance.md, "Weight").
     */
    @Test
    void theDaemonRunsTheJarAClientTheMainClass() throws Exception {
        Path home = fakeJavaHome("jdk17", "17.0.15");
        List<String> run = run(Map.of("JAVA_HOME", home.toString()), "run", "--vassals", "/v").args();
        assertEquals(List.of("-jar", "/usr/share/emperor/emperor.jar", "run", "--vassals", "/v"), run.subList(run.size() - 5, run.size()));
        assertTrue(io.emperor.control.ClientErrors.describe(1, java.util.stream.Stream.concat(
                java.util.stream.Stream.of("/usr/bin/java"), run.stream()).toList(), null, Map.of(), 0).isPresent(),
                "a client recognises the daemon's command line");
        for (String command : List.of("status", "stop", "logs", "check", "--version")) {
            List<String> args = run(Map.of("JAVA_HOME", home.toString()), command, "x").args();
            assertEquals(List.of("-cp", "/usr/share/emperor/emperor.jar", "io.emperor.cli.Main", command, "x"),
                    args.subList(args.size() - 5, args.size()), command);
            assertTrue(io.emperor.control.ClientErrors.describe(1, java.util.stream.Stream.concat(
                    java.util.stream.Stream.of("/usr/bin/java"), args.stream()).toList(), null, Map.of(), 0).isEmpty(),
                    command + ": a client is not an emperor");
        }
    }

    @Test
    void itExecsJavaSoThePidSystemdStartedIsTheJvms() throws Exception {
        Path home = fakeJavaHome("jdk17", "17.0.15");
        Run r = run(Map.of("JAVA_HOME", home.toString()), "--version");
        assertEquals("pid=" + r.pid(), r.stdout().lines().findFirst().orElse(""), r.stdout());
    }

    @Test
    void aJavaHomeOlderThan17IsPassedOverWithAReason() throws Exception {
        for (String old : List.of("11.0.2", "1.8.0_292")) {
            Path home = fakeJavaHome("jdk-" + old, old);
            Run r = run(Map.of("JAVA_HOME", home.toString(), "PATH", "/nonexistent"), "--version");
            assertTrue(r.stderr().contains("JAVA_HOME=" + home + " is not a Java 17 or newer; looking elsewhere"), r.stderr());
            assertTrue(r.stdout().lines().noneMatch(l -> l.equals("pid=" + r.pid())), "the old java was not run: " + r.stdout());
        }
    }

    @Test
    void theReleaseFileIsOptional() throws Exception {
        Path home = fakeJavaHome("norelease", "x");
        Files.delete(home.resolve("release"));
        // Without a release file the version comes from `java -version`, which this fake does not
        // print: it counts as too old, and is not run.
        Run r = run(Map.of("JAVA_HOME", home.toString(), "PATH", "/nonexistent"), "--version");
        assertTrue(r.stderr().contains("is not a Java 17 or newer"), r.stderr());
    }

    /**
     * With no JAVA_HOME and no default-java, the system's {@code java} (PATH: what
     * update-alternatives chose) is run, not the newest JDK under /usr/lib/jvm.
     */
    @Test
    void theSystemsJavaComesBeforeTheNewestJdkBesideIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/usr/lib/jvm/default-java")),
                "a default-java would come first");
        Path home = fakeJavaHome("system-jdk", "17.0.15");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("java"), home.resolve("bin/java"));
        Run r = run(Map.of("PATH", bin + ":/usr/bin:/bin"), "--version");
        assertEquals("pid=" + r.pid(), r.stdout().lines().findFirst().orElse(""), "the fake system java ran: " + r.stdout() + r.stderr());
    }

    /**
     * The class-data archive of this JVM (its directory's name and version) and this kind of
     * command is passed when it exists and is not older than the jar (a dynamic CDS archive), with
     * the JVM's warnings about it off; otherwise nothing.
     */
    @Test
    void theArchiveOfThisJvmAndCommandIsPassedOnlyWhenItExistsAndIsNotOlderThanTheJar() throws Exception {
        Path archives = Files.createDirectories(tmp.resolve("archives"));
        Path build = Files.createDirectories(tmp.resolve("build"));
        Path jar = Files.writeString(build.resolve("emperor.jar"), "jar");
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Path jdk17 = fakeJavaHome("jdk17", "17.0.15");
        Path jdk25 = fakeJavaHome("jdk25", "25.0.1");
        Map<String, String> env17 = Map.of("JAVA_HOME", jdk17.toString(), "EMPEROR_BUILD_DIR", build.toString(),
                "EMPEROR_ARCHIVE_DIR", archives.toString());
        Map<String, String> env25 = Map.of("JAVA_HOME", jdk25.toString(), "EMPEROR_BUILD_DIR", build.toString(),
                "EMPEROR_ARCHIVE_DIR", archives.toString());
        assertTrue(run(env17, "run").args().stream().noneMatch(a -> a.contains("Archive") || a.contains("AOT")), "no archive");

        Path run17 = Files.writeString(archives.resolve("jdk17-17.0.15-run.jsa"), "archive");
        Path client17 = Files.writeString(archives.resolve("jdk17-17.0.15-client.jsa"), "archive");
        Path run25 = Files.writeString(archives.resolve("jdk25-25.0.1-run.jsa"), "archive");
        List<String> args = run(env17, "run", "--config", "x").args();
        assertTrue(args.contains("-XX:SharedArchiveFile=" + run17), args.toString());
        assertTrue(args.contains("-Xlog:cds*=off") && !args.contains("-Xlog:aot*=off"), "17 knows no aot tag: " + args);
        assertTrue(args.indexOf("-XX:SharedArchiveFile=" + run17) < args.indexOf("-jar"), args.toString());
        assertTrue(run(env17, "status").args().contains("-XX:SharedArchiveFile=" + client17), "a client command: the client archive");
        args = run(env25, "run").args();
        assertTrue(args.contains("-XX:SharedArchiveFile=" + run25) && args.contains("-Xlog:aot*=off"), args.toString());
        assertTrue(run(env25, "status").args().stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")), "no client archive for 25");

        // The jar replaced after the archive was built: the archive is not asked for.
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        assertTrue(run(env17, "run").args().stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")), "stale: not passed");

        // A training run (emperor-archive) writes ARCHIVE.new and maps none.
        Map<String, String> train = new java.util.HashMap<>(env17);
        train.put("EMPEROR_ARCHIVE_TRAIN", "1");
        args = run(train, "run").args();
        assertTrue(args.contains("-XX:ArchiveClassesAtExit=" + run17 + ".new"), args.toString());
        assertTrue(args.stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")), args.toString());
        train.put("JAVA_HOME", jdk25.toString());
        assertTrue(run(train, "status").args().contains("-XX:ArchiveClassesAtExit=" + archives.resolve("jdk25-25.0.1-client.jsa.new")));
    }

    /**
     * On every real JVM of this machine: emperor-archive builds both archives from the build;
     * `emperor --version` then loads its classes from the archive; a damaged archive, or one of
     * another JVM under this one's name, is ignored without a word (same output, nothing on
     * stderr, exit 0), and `emperor run` with a damaged archive still starts.
     */
    @Test
    void theArchiveIsUsedWhenValidAndIgnoredSilentlyWhenDamagedOrForAnotherJvm() throws Exception {
        Path build = Path.of(System.getProperty("emperor.buildDir", "target")).toAbsolutePath();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(build.resolve("emperor.jar")), "no build");
        List<Path> homes = new java.util.ArrayList<>();
        for (String h : List.of("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64")) {
            if (Files.isExecutable(Path.of(h, "bin/java"))) {
                homes.add(Path.of(h));
            }
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(homes.isEmpty(), "no JDK 17 or 25 here");
        String version = null;
        for (Path home : homes) {
            Path archives = Files.createDirectories(tmp.resolve("archives-" + home.getFileName()));
            Map<String, String> env = Map.of("JAVA_HOME", home.toString(), "EMPEROR_BUILD_DIR", build.toString(),
                    "EMPEROR_ARCHIVE_DIR", archives.toString());
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "packaging/emperor-archive").redirectErrorStream(true);
            pb.environment().remove("JAVA_HOME");
            pb.environment().putAll(env);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, home + ": " + out);
            List<Path> built;
            try (var files = Files.list(archives)) {
                built = files.sorted().toList();
            }
            assertEquals(2, built.size(), home + ": a run and a client archive: " + built);

            Run plain = run(env, "--version");
            assertEquals(0, plain.exit(), plain.stderr());
            assertEquals("", plain.stderr(), home + ": nothing on stderr");
            version = plain.stdout();
            Map<String, String> traced = new java.util.HashMap<>(env);
            traced.put("EMPEROR_JAVA_OPTS", "-Xlog:class+load=info");
            assertTrue(run(traced, "--version").stdout().lines()
                            .anyMatch(l -> l.contains("io.emperor.cli.Main source: shared objects file")),
                    home + ": Main comes from the archive");

            // The good archives kept aside (for the foreign-JVM case below), then damaged: same name,
            // same age, garbage inside.
            Path good = Files.createDirectories(tmp.resolve("good-" + home.getFileName()));
            for (Path a : built) {
                Files.copy(a, good.resolve(a.getFileName()));
            }
            for (Path a : built) {
                byte[] junk = new byte[64 * 1024];
                new java.util.Random(1).nextBytes(junk);
                Files.write(a, junk);
            }
            Run damaged = run(env, "--version");
            assertEquals(0, damaged.exit(), damaged.stderr());
            assertEquals("", damaged.stderr(), home + ": a damaged archive is ignored silently");
            assertEquals(version, damaged.stdout());
            Path vassals = Files.createDirectories(tmp.resolve("vassals-" + home.getFileName()));
            Path log = tmp.resolve("run-" + home.getFileName() + ".log");
            ProcessBuilder daemon = new ProcessBuilder("/bin/sh", LAUNCHER.toString(), "run", "--vassals", vassals.toString(),
                    "--control", "", "--log", log.toString()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("run-" + home.getFileName() + ".out").toFile());
            daemon.environment().remove("JAVA_HOME");
            daemon.environment().remove("NOTIFY_SOCKET");
            daemon.environment().putAll(env);
            Process emperor = daemon.start();
            try {
                io.emperor.testing.Poll.until("emperor run with a damaged archive gets ready", java.time.Duration.ofSeconds(60),
                        () -> ready(log));
                assertEquals("", Files.readString(tmp.resolve("run-" + home.getFileName() + ".out")), "nothing on stderr");
            } finally {
                emperor.destroy();
                emperor.waitFor(30, TimeUnit.SECONDS);
            }
        }
        if (homes.size() == 2) {
            // 25's archive under 17's name (and the other way round): each JVM refuses it, silently.
            Path a17 = tmp.resolve("archives-java-17-openjdk-amd64");
            Path a25 = tmp.resolve("good-temurin-25-jdk-amd64"); // 25's archives as emperor-archive built them
            try (var files = Files.list(a17)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            try (var files = Files.list(a25)) {
                for (Path f : files.toList()) {
                    String kind = f.getFileName().toString().contains("-run.") ? "run" : "client";
                    Files.copy(f, a17.resolve("java-17-openjdk-amd64-" + release(homes.get(0)) + "-" + kind + ".jsa"));
                    // and 17's own damaged copy stays out of the way: only 25's bytes under 17's name
                }
            }
            Run foreign = run(Map.of("JAVA_HOME", homes.get(0).toString(), "EMPEROR_BUILD_DIR", build.toString(),
                    "EMPEROR_ARCHIVE_DIR", a17.toString()), "--version");
            assertEquals(0, foreign.exit(), foreign.stderr());
            assertEquals("", foreign.stderr(), "another JVM's archive is ignored silently");
            assertEquals(version, foreign.stdout());
        }
    }

    static boolean ready(Path log) {
        try {
            return Files.readString(log).contains("] ready: ");
        } catch (IOException e) {
            return false;
        }
    }

    static String release(Path home) throws IOException {
        return Files.readAllLines(home.resolve("release")).stream().filter(l -> l.startsWith("JAVA_VERSION="))
                .map(l -> l.substring("JAVA_VERSION=".length()).replace("\"", "")).findFirst().orElseThrow();
    }

    /**
     * jffi's library is loaded from the build's jni/ directory (the package's /usr/lib/emperor/jni),
     * not copied out of the jar into java.io.tmpdir: the running emperor maps that file and the
     * temporary directory stays empty.
     */
    @Test
    void jffisLibraryComesFromTheShippedPathNotATemporaryCopy() throws Exception {
        Path build = Path.of(System.getProperty("emperor.buildDir", "target")).toAbsolutePath();
        Path lib = build.resolve("jni/x86_64-Linux/libjffi-1.2.so");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(lib), "no jffi library in the build (not amd64?)");
        Path tmpdir = Files.createDirectories(tmp.resolve("java-tmp"));
        Path vassals = Files.createDirectories(tmp.resolve("vassals"));
        Path log = tmp.resolve("emperor.log");
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", LAUNCHER.toString(), "run", "--vassals", vassals.toString(),
                "--control", "", "--log", log.toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("run.out").toFile());
        pb.environment().remove("NOTIFY_SOCKET");
        pb.environment().putAll(Map.of("EMPEROR_BUILD_DIR", build.toString(), "EMPEROR_ARCHIVE_DIR", tmp.resolve("none").toString(),
                "EMPEROR_JAVA_OPTS", "-Djava.io.tmpdir=" + tmpdir));
        Process emperor = pb.start();
        try {
            io.emperor.testing.Poll.until("emperor run gets ready", java.time.Duration.ofSeconds(60), () -> ready(log));
            String maps = Files.readString(Path.of("/proc/" + emperor.pid() + "/maps"));
            assertTrue(maps.contains(lib.toRealPath().toString()), "the shipped library is mapped");
            try (var left = Files.list(tmpdir)) {
                assertEquals(List.of(), left.toList(), "nothing copied into java.io.tmpdir");
            }
        } finally {
            emperor.destroy();
            emperor.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
