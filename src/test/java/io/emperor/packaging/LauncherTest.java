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
                "-Demperor.helper=/usr/lib/emperor/emperor-exec", "-Xmx128m", "-jar", "/usr/share/emperor/emperor.jar",
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
            for (String flag : args.subList(0, args.indexOf("-jar"))) {
                String named = flag.startsWith("-Demperor.helper=") ? "-Demperor.helper=" : flag;
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
        assertEquals(List.of("-jar", "/src/target/emperor.jar", "--version"), args.subList(args.size() - 3, args.size()));
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
}
